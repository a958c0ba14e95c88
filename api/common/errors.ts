/**
 * What went wrong, in the domain's terms: services and jobs throw these; the HTTP layer alone
 * turns a kind into a status (api/routes/http.ts).
 */
export abstract class DomainError extends Error {
  abstract readonly code: "not_found" | "conflict" | "invalid";
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  readonly code = "not_found";
  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class ConflictError extends DomainError {
  readonly code = "conflict";
}

export class ValidationError extends DomainError {
  readonly code = "invalid";
}
