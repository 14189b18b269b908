/**
 * Sample events for unit tests, one copy for every test file: a canonical payload and a payload
 * of the legacy firmware, both valid at {@linkcode RECEIVED_AT}.
 *
 * @module
 */

/** The Kafka record timestamp of the tests (the future bound counts from it): 2026-11-27T00:00:00Z. */
export const RECEIVED_AT: number = Date.UTC(2026, 10, 27);

/** A valid canonical payload: an alert (36.2 °C), with an offset timestamp. */
export const SAMPLE_EVENT = Object.freeze({
  ID: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
  ID_DISPOSITIVO: "sensor-0001",
  TIMESTAMP: "2026-11-26T10:15:30-03:00",
  TEMPERATURA: 36.2,
  UMIDADE: 55,
  LATITUDE: -23.55,
  LONGITUDE: -46.63,
  STATUS: "WARN",
  BATERIA: 80,
});

/**
 * `count` valid events numbered from `from` on, over `devices` devices (`dev-<n mod devices>`, also
 * the message key), each with its own random `ID` and one second after the one before it.
 *
 * @param from Number of the first event.
 * @param count How many.
 * @param devices How many devices they cycle through.
 */
export function validEvents(
  from: number,
  count: number,
  devices: number,
): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    return {
      key: `dev-${i % devices}`,
      value: JSON.stringify({
        ID: crypto.randomUUID(),
        ID_DISPOSITIVO: `dev-${i % devices}`,
        TIMESTAMP: new Date(Date.UTC(2026, 10, 26) + i * 1000).toISOString(),
        TEMPERATURA: 20,
        UMIDADE: 50,
        LATITUDE: 1,
        LONGITUDE: 2,
        STATUS: "OK",
        BATERIA: 80,
      }),
    };
  });
}
