/**
 * Errors as RFC 9457 problem details (`application/problem+json`): `type`, `title`, `status`,
 * `detail`, and for a bad request the parameter at fault in `parameter`.
 *
 * @module
 */

/** The media type of a problem document. */
export const PROBLEM_JSON = "application/problem+json";

/** A problem document. */
export interface Problem {
  /** A URI naming the kind of problem; `about:blank` when the status says it all. */
  type: string;
  /** The status's phrase, or the kind of problem in words. */
  title: string;
  /** The HTTP status. */
  status: number;
  /** What went wrong this time, for a person. */
  detail: string;
  /** The query parameter, header or body field at fault (bad requests). */
  parameter?: string;
}

/** A bad query parameter, header or body field: answered with a 400 naming it. */
export class ParameterError extends Error {
  /** The parameter, header (`Last-Event-ID`) or body field (`body.note`) at fault. */
  readonly parameter: string;

  /**
   * @param parameter Its name as the client wrote it.
   * @param detail What is wrong with it, including the value received.
   */
  constructor(parameter: string, detail: string) {
    super(detail);
    this.name = "ParameterError";
    this.parameter = parameter;
  }
}

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * A problem response.
 *
 * @example
 * ```ts
 * import { problemResponse } from "./problem.ts";
 * import assert from "node:assert/strict";
 *
 * const response = problemResponse(404, "no alert 7");
 * assert.equal(response.headers.get("content-type"), "application/problem+json");
 * assert.equal((await response.json()).title, "Not Found");
 * ```
 *
 * @param status The HTTP status.
 * @param detail What went wrong.
 * @param extra `parameter`, or `type` and `title` for a specific kind of problem.
 * @param headers More headers (`WWW-Authenticate`, `Allow`).
 */
export function problemResponse(
  status: number,
  detail: string,
  extra: Partial<Pick<Problem, "type" | "title" | "parameter">> = {},
  headers: Record<string, string> = {},
): Response {
  const problem: Problem = {
    type: extra.type ?? "about:blank",
    title: extra.title ?? TITLES[status] ?? "Error",
    status,
    detail,
  };
  if (extra.parameter !== undefined) problem.parameter = extra.parameter;
  return new Response(JSON.stringify(problem), {
    status,
    headers: { "content-type": PROBLEM_JSON, ...headers },
  });
}

/** The 400 of a {@linkcode ParameterError}. */
export function parameterProblem(error: ParameterError): Response {
  return problemResponse(400, error.message, {
    type: "/openapi.json#/components/responses/P400",
    title: "Invalid parameter",
    parameter: error.parameter,
  });
}
