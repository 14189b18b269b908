import assert from "node:assert/strict";
import { repeatedKeys } from "./repeated_keys.ts";

Deno.test("repeatedKeys() finds a key given twice at the top level, with both values", () => {
  const text = '{"ID":"a","X":{"ID":"nested"},"S":"has \\"ID\\" inside","ID":"b"}';
  assert.deepEqual([...repeatedKeys(text, ["ID", "Y"])], [["ID", ["a", "b"]]]);
});

Deno.test("repeatedKeys() is empty for a key given once, even if its name appears elsewhere", () => {
  assert.equal(repeatedKeys('{"ID":"a","N":{"ID":"b"}}', ["ID"]).size, 0);
  assert.equal(repeatedKeys('{"ID":"a","T":"\\"ID\\""}', ["ID"]).size, 0);
  assert.equal(repeatedKeys('{"A":1}', ["ID"]).size, 0);
});

Deno.test("repeatedKeys() reads values of every JSON type and spacing", () => {
  const text = ' { "ID" : [1, {"a": "}"}] , "ID":null , "ID": 2.5e3 } ';
  assert.deepEqual(repeatedKeys(text, ["ID"]).get("ID"), [[1, { a: "}" }], null, 2500]);
});
