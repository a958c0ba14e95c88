/** Domain errors of the automation layer; callers map these, never the CLI's raw errors. */
export class AutomationError extends Error {
  constructor(
    message: string,
    /** The stack the failed run was on. */
    readonly stackName: string,
  ) {
    super(message);
  }
}

export class StackNotFoundError extends AutomationError {
  override readonly name = "StackNotFoundError";
}

/** Another update holds the stack (in this process, another process, or a stale lock we may not clear). */
export class StackLockedError extends AutomationError {
  override readonly name = "StackLockedError";
}

/** The engine ran and failed; `logTail` holds the end of its output with secrets removed. */
export class EngineError extends AutomationError {
  override readonly name = "EngineError";
  constructor(
    message: string,
    stack: string,
    readonly logTail: string,
  ) {
    super(message, stack);
  }
}

export class RunCancelledError extends AutomationError {
  override readonly name = "RunCancelledError";
}

export class RunTimedOutError extends AutomationError {
  override readonly name = "RunTimedOutError";
  constructor(
    stack: string,
    readonly timeoutMs: number,
  ) {
    super(`run on ${stack} timed out after ${timeoutMs} ms and was cancelled`, stack);
  }
}
