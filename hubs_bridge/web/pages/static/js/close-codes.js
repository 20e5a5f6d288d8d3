// Generated from hubs_bridge/close_codes.py (python -m hubs_bridge.close_codes);
// tests/test_close_codes.py fails when the two differ. Do not edit by hand.
export const CLOSE = Object.freeze({
  NORMAL: 1000,
  POLICY: 1008,
  TOO_BIG: 1009,
  RESTART: 1012,
  TRY_AGAIN: 1013,
  SLOW: 4008,
  BAD_HELLO: 4400,
  UNAUTHORIZED: 4401,
  UNKNOWN_EVENT: 4404,
  TOO_MANY: 4429,
});
