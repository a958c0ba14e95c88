import * as fs from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** The API's admin side, for what runs there (backups, restores: serialized with the tenant's operations). */
export class AdminApi {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv): AdminApi {
    const token = env.ADMIN_TOKEN;
    if (!token)
      throw new AdminApiError(
        "ADMIN_TOKEN is required (and ODOO_SAAS_API_URL, default http://127.0.0.1:3000)",
      );
    return new AdminApi(env.ODOO_SAAS_API_URL ?? "http://127.0.0.1:3000", token);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!res.ok)
      throw new AdminApiError(
        `${method} ${path}: ${res.status} ${parsed?.error?.message ?? parsed?.message ?? text}`,
      );
    return parsed as T;
  }

  /** Polls an operation until it has finished; says each change of status. */
  async follow(
    operationId: string,
    onStatus: (status: string) => void,
  ): Promise<{ status: string; error: string | null; details: unknown }> {
    let last = "";
    for (;;) {
      const op = await this.call<{ status: string; error: string | null; details: unknown }>(
        "GET",
        `/admin/operations/${operationId}`,
      );
      if (op.status !== last) onStatus((last = op.status));
      if (!["queued", "running"].includes(op.status)) return op;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Streams a response body to a file (an export), never holding it whole. */
  async download(path: string, file: string): Promise<number> {
    const res = await this.fetch("GET", path);
    if (!res.ok || !res.body)
      throw new AdminApiError(`GET ${path}: ${res.status} ${await res.text()}`);
    await pipeline(
      Readable.fromWeb(res.body as import("node:stream/web").ReadableStream),
      fs.createWriteStream(file),
    );
    return fs.statSync(file).size;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new AdminApiError(
        `the API at ${this.url} cannot be reached: ${(e as Error).cause ?? (e as Error).message}`,
      );
    }
  }
}

export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
}
