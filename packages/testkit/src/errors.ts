/** A test server could not be started, or stopped answering. The message says what to do. */
export class TestServerError extends Error {
  override name = "TestServerError";
}

/** A `waitFor` condition did not hold before its deadline. */
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
}
