import { FINGERPRINT_OUTPUT } from "../../automation/inputs-fingerprint";
import type { DatabasePlacement } from "../../components/tenant/database-placement";
import type { Pool, PoolClient } from "pg";
import type {
  BillingStatus,
  BillingWrite,
  DatabaseMoveProgress,
  NodeMoveProgress,
  DesiredState,
  DriftedResource,
  RetiredDatabase,
  SuspendReason,
  Tenant,
  TenantDesiredSpec,
} from "../domain/tenant";
import { billingBasis } from "../domain/tenant";
import type { Mail } from "../domain/mail";

/** A page of the tenant list: after an id, filtered. */
export interface TenantPageQuery {
  /** The last id of the previous page. */
  after?: string;
  limit: number;
  state?: DesiredState;
  plan?: string;
  /** Only tenants whose observed generation lags the desired one. */
  lagging?: boolean;
  /** Only tenants whose last reconcile failed. */
  failed?: boolean;
  /** Only tenants whose latest drift check found resources changed out of band. */
  drifted?: boolean;
}

export interface DesiredInput {
  id: string;
  customerId: string;
  spec: TenantDesiredSpec;
  desiredState: DesiredState;
  source: "killbill" | "admin";
  /** Operator changes: set or lift the hold billing cannot lift. */
  operatorHold?: boolean;
  suspendReason?: SuspendReason | null;
  skipFinalBackup?: boolean;
}

const row = (r: any): Tenant => ({
  id: r.id,
  customerId: r.customer_id,
  spec: r.spec,
  desiredState: r.desired_state,
  desiredGeneration: r.desired_generation,
  observedGeneration: r.observed_generation,
  gaveUpGeneration: r.failed_generation ?? null,
  observedState: r.observed_state,
  outputs: r.outputs,
  lastError: r.last_error,
  source: r.source,
  killbillSubscriptionId: r.killbill_subscription_id,
  killbillAccountId: r.killbill_account_id,
  billingState: r.billing_state,
  billingStatus: r.billing_status,
  billingEndsOn: r.billing_ends_on ? isoDay(r.billing_ends_on) : null,
  operatorHold: r.operator_hold,
  suspendReason: r.suspend_reason,
  terminatedAt: r.terminated_at ? r.terminated_at.toISOString() : null,
  dataKeptUntil: r.data_kept_until ? r.data_kept_until.toISOString() : null,
  deletedAt: r.deleted_at ? r.deleted_at.toISOString() : null,
  skipFinalBackup: r.skip_final_backup,
  drift: r.drift_checked_at
    ? { checkedAt: r.drift_checked_at.toISOString(), resources: r.drift ?? [] }
    : null,
  databasePlacement: r.database_placement,
  node: r.node,
  nodeMove: r.node_move,
  retiredDatabases: r.retired_databases ?? [],
  databaseMove: r.database_move,
  appliedSpec: r.applied_spec,
  sleepingSince: r.sleeping_since ? r.sleeping_since.toISOString() : null,
  lastActivityAt: r.last_activity_at ? r.last_activity_at.toISOString() : null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** pg reads a `date` as local midnight; its calendar day, whatever the process's time zone. */
const isoDay = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

const canonical = (v: unknown) => JSON.stringify(v, Object.keys(v as object).sort());

export interface LifecyclePolicy {
  now: () => Date;
  /** Days a terminated tenant of this plan keeps its data. */
  dataRetentionDays: (plan: string) => number;
}

const DAY_MS = 86_400_000;

/** Tenants' desired and observed state (level-triggered: a change bumps the desired generation). */
export class TenantStore {
  constructor(
    private readonly pool: Pool,
    private readonly lifecycle: LifecyclePolicy = {
      now: () => new Date(),
      dataRetentionDays: () => 30,
    },
  ) {}

  /**
   * The lifecycle dates a move to `desired` implies: the grace period starts when a tenant is
   * terminated (and is kept while it stays so), ends when it leaves that state.
   */
  private lifecycleDates(current: any | undefined, desired: DesiredState, plan: string) {
    const now = this.lifecycle.now();
    const stays = current?.desired_state === desired;
    return {
      terminatedAt: desired === "terminated" ? (stays ? current.terminated_at : now) : null,
      dataKeptUntil:
        desired === "terminated"
          ? stays
            ? current.data_kept_until
            : new Date(now.getTime() + this.lifecycle.dataRetentionDays(plan) * DAY_MS)
          : null,
      deletedAt: desired === "deleted" ? (stays ? current.deleted_at : now) : null,
    };
  }

  /**
   * Sets the desired state. Returns the tenant and whether anything changed: the same desired
   * state written again (a duplicate or re-delivered event) changes nothing, not even the generation.
   */
  async setDesired(input: DesiredInput): Promise<{ tenant: Tenant; changed: boolean }> {
    return this.transaction(async (client) => {
      const current = (
        await client.query("SELECT * FROM tenants WHERE id = $1 FOR UPDATE", [input.id])
      ).rows[0];
      if (!current) {
        const d = this.lifecycleDates(undefined, input.desiredState, input.spec.plan);
        const inserted = await client.query(
          `INSERT INTO tenants (id, customer_id, spec, desired_state, source, operator_hold, suspend_reason,
             terminated_at, data_kept_until)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
          [
            input.id,
            input.customerId,
            input.spec,
            input.desiredState,
            input.source,
            input.operatorHold ?? false,
            input.suspendReason ?? null,
            d.terminatedAt,
            d.dataKeptUntil,
          ],
        );
        return { tenant: row(inserted.rows[0]), changed: true };
      }
      const hold = input.operatorHold ?? current.operator_hold;
      const reason =
        input.suspendReason === undefined ? current.suspend_reason : input.suspendReason;
      const same =
        current.customer_id === input.customerId &&
        current.desired_state === input.desiredState &&
        canonical(current.spec) === canonical(input.spec);
      const d = this.lifecycleDates(current, input.desiredState, input.spec.plan);
      const updated = await client.query(
        `UPDATE tenants SET customer_id = $2, spec = $3, desired_state = $4, operator_hold = $5,
           suspend_reason = $6, desired_generation = desired_generation + $7, updated_at = now(),
           sleeping_since = CASE WHEN desired_state = $4 THEN sleeping_since END,
           terminated_at = $8, data_kept_until = $9, deleted_at = $10,
           skip_final_backup = $11
         WHERE id = $1 RETURNING *`,
        [
          input.id,
          input.customerId,
          input.spec,
          input.desiredState,
          hold,
          reason,
          same ? 0 : 1,
          d.terminatedAt,
          d.dataKeptUntil,
          d.deletedAt,
          input.skipFinalBackup ?? (input.desiredState === "deleted" && current.skip_final_backup),
        ],
      );
      return { tenant: row(updated.rows[0]), changed: !same };
    });
  }

  /**
   * Creates a tenant an operator asked for; undefined when the id is taken. One statement: of any
   * number of concurrent creates of one id, exactly one wins and the others change nothing.
   */
  async insertNew(input: DesiredInput): Promise<Tenant | undefined> {
    const r = await this.pool.query(
      `INSERT INTO tenants (id, customer_id, spec, desired_state, source)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [input.id, input.customerId, input.spec, input.desiredState, input.source],
    );
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  /**
   * Writes what a billing reading decided (the service decides: killbill/binding.ts), with its
   * status transition and the customer's mails, in one transaction; only while the tenant is as
   * the decision read it (`basis`), else nothing is written and undefined says: decide again.
   */
  async writeBilling(
    w: BillingWrite,
    basis: string,
    /** What made us read Kill Bill (recorded with a billing status transition). */
    cause: string,
    mailsFor: (before: Tenant | undefined, after: Tenant) => Mail[],
  ): Promise<{ tenant: Tenant; before?: Tenant; mailIds: string[] } | undefined> {
    return this.transaction(async (client) => {
      const current = (
        await client.query("SELECT * FROM tenants WHERE id = $1 FOR UPDATE", [w.tenantId])
      ).rows[0];
      const before = current ? row(current) : undefined;
      if (billingBasis(before) !== basis) return undefined;
      const dates = this.lifecycleDates(current, w.desiredState, w.spec.plan);
      const written = before
        ? await client.query(
            `UPDATE tenants SET customer_id = $2, spec = $3, desired_state = $4, source = 'killbill',
               killbill_subscription_id = $5, killbill_account_id = $6, billing_state = $7,
               suspend_reason = $8, operator_hold = $9,
               desired_generation = desired_generation + $10, updated_at = now(),
               sleeping_since = CASE WHEN desired_state = $4 THEN sleeping_since END,
               terminated_at = $11, data_kept_until = $12, deleted_at = $13,
               skip_final_backup = skip_final_backup AND $4 = 'deleted',
               billing_status = $14, billing_ends_on = $15
             WHERE id = $1 RETURNING *`,
            [
              w.tenantId,
              w.customerId,
              w.spec,
              w.desiredState,
              w.subscriptionId,
              w.accountId,
              w.billingState,
              w.suspendReason,
              w.operatorHold,
              w.changed ? 1 : 0,
              dates.terminatedAt,
              dates.dataKeptUntil,
              dates.deletedAt,
              w.billingStatus,
              w.endsOn,
            ],
          )
        : await client.query(
            `INSERT INTO tenants (id, customer_id, spec, desired_state, source, killbill_subscription_id,
               killbill_account_id, billing_state, suspend_reason, terminated_at, data_kept_until,
               billing_status, billing_ends_on)
             VALUES ($1, $2, $3, $4, 'killbill', $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO NOTHING RETURNING *`,
            [
              w.tenantId,
              w.customerId,
              w.spec,
              w.desiredState,
              w.subscriptionId,
              w.accountId,
              w.billingState,
              w.suspendReason,
              dates.terminatedAt,
              dates.dataKeptUntil,
              w.billingStatus,
              w.endsOn,
            ],
          );
      // Created meanwhile by a concurrent event or an operator: decide again.
      if (!written.rows[0]) return undefined;
      if (w.transition)
        await this.recordTransition(
          client,
          w.tenantId,
          before?.billingStatus ?? null,
          w.billingStatus,
          cause,
        );
      const tenant = row(written.rows[0]);
      const mailIds = await this.addMails(client, mailsFor(before, tenant));
      return { tenant, before, mailIds };
    });
  }

  private async recordTransition(
    client: PoolClient,
    tenantId: string,
    from: BillingStatus | null,
    to: BillingStatus,
    cause: string,
  ) {
    await client.query(
      "INSERT INTO billing_transitions (tenant_id, from_status, to_status, cause, at) VALUES ($1, $2, $3, $4, $5)",
      [tenantId, from, to, cause, this.lifecycle.now()],
    );
  }

  /** A tenant's billing status transitions, oldest first. */
  async billingTransitions(
    tenantId: string,
  ): Promise<{ from: BillingStatus | null; to: BillingStatus; cause: string; at: string }[]> {
    const r = await this.pool.query(
      "SELECT from_status, to_status, cause, at FROM billing_transitions WHERE tenant_id = $1 ORDER BY id",
      [tenantId],
    );
    return r.rows.map((x) => ({
      from: x.from_status,
      to: x.to_status,
      cause: x.cause,
      at: x.at.toISOString(),
    }));
  }

  /** How many billed tenants (not deleted) are in each billing status. */
  async countByBillingStatus(): Promise<Record<string, number>> {
    const r = await this.pool.query(
      `SELECT billing_status, count(*)::int AS n FROM tenants
        WHERE billing_status IS NOT NULL AND desired_state <> 'deleted' GROUP BY billing_status`,
    );
    return Object.fromEntries(r.rows.map((x) => [x.billing_status, x.n]));
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let lost: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      // On a lost connection the server has rolled back already; the original error is the one.
      await client.query("ROLLBACK").catch((err: Error) => (lost = err));
      throw e;
    } finally {
      client.release(lost);
    }
  }

  async get(id: string): Promise<Tenant | undefined> {
    const r = await this.pool.query("SELECT * FROM tenants WHERE id = $1", [id]);
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  async list(): Promise<Tenant[]> {
    return (await this.pool.query("SELECT * FROM tenants ORDER BY id")).rows.map(row);
  }

  /**
   * An engine run outside the API (an operator's rollout) is about to change the stack: until it
   * records its outputs, no fingerprint vouches for the stack.
   */
  async forgetFingerprint(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE tenants SET outputs = outputs - '${FINGERPRINT_OUTPUT}' WHERE id = $1`,
      [id],
    );
  }

  /** The outputs of a stack applied outside the API (an operator's rollout). */
  async recordStackOutputs(id: string, outputs: Record<string, unknown>): Promise<void> {
    await this.pool.query("UPDATE tenants SET outputs = $2 WHERE id = $1", [id, outputs]);
  }

  /**
   * Each tenant's stack fingerprint, for tenants whose latest engine run succeeded (a failed or
   * interrupted run may have changed the stack: no fingerprint vouches for it).
   */
  async appliedFingerprints(): Promise<Map<string, string>> {
    const r = await this.pool.query(
      `SELECT t.id, t.outputs->>'${FINGERPRINT_OUTPUT}' AS fingerprint FROM tenants t
        WHERE t.outputs ? '${FINGERPRINT_OUTPUT}'
          AND (SELECT o.status FROM operations o
                WHERE o.tenant_id = t.id AND o.type IN ('up', 'destroy')
                ORDER BY o.started_at DESC LIMIT 1) = 'succeeded'`,
    );
    return new Map(r.rows.map((x) => [x.id as string, x.fingerprint as string]));
  }

  /**
   * One page of tenants in id order after `after` (keyset: each page costs the same whatever the
   * fleet's size), filtered. One more row than asked is read to tell whether a next page exists.
   */
  async page(q: TenantPageQuery): Promise<{ tenants: Tenant[]; more: boolean }> {
    const r = await this.pool.query(
      `SELECT * FROM tenants
        WHERE ($1::text IS NULL OR id > $1)
          AND ($2::text IS NULL OR desired_state = $2)
          AND ($3::text IS NULL OR spec->>'plan' = $3)
          AND (NOT $4 OR observed_generation < desired_generation)
          AND (NOT $5 OR last_error IS NOT NULL)
          AND (NOT $7 OR jsonb_array_length(drift) > 0)
        ORDER BY id LIMIT $6`,
      [
        q.after ?? null,
        q.state ?? null,
        q.plan ?? null,
        !!q.lagging,
        !!q.failed,
        q.limit + 1,
        !!q.drifted,
      ],
    );
    const rows = r.rows.map(row);
    return { tenants: rows.slice(0, q.limit), more: rows.length > q.limit };
  }

  /** The result of a drift check. */
  async recordDrift(id: string, resources: DriftedResource[]): Promise<void> {
    await this.pool.query("UPDATE tenants SET drift = $2, drift_checked_at = now() WHERE id = $1", [
      id,
      JSON.stringify(resources),
    ]);
  }

  /** An engine run made the stack match its program again: no drift any more. */
  async clearDrift(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE tenants SET drift = '[]', drift_checked_at = now()
        WHERE id = $1 AND jsonb_array_length(drift) > 0`,
      [id],
    );
  }

  async driftedCount(): Promise<number> {
    const r = await this.pool.query(
      "SELECT count(*)::int AS n FROM tenants WHERE jsonb_array_length(drift) > 0",
    );
    return r.rows[0].n;
  }

  /** Tenants with a stack to check for drift (provisioned, not deleted), in id order. */
  async withStacks(): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT id FROM tenants WHERE observed_state IS NOT NULL AND observed_state <> 'deleted'
         AND desired_state <> 'deleted' ORDER BY id`,
    );
    return r.rows.map((x) => x.id);
  }

  /** Tenants whose observed generation lags the desired one (what the sweeper re-enqueues). */
  async lagging(): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT id FROM tenants WHERE observed_generation < desired_generation
         AND failed_generation IS DISTINCT FROM desired_generation ORDER BY id`,
    );
    return r.rows.map((x) => x.id);
  }

  /**
   * What an engine run applied, in one transaction with everything that follows from it: the
   * observed state and outputs; with `generation`, the generation done and its operation
   * succeeded (a succeeded run not counted as applied would run again); the customer's mails
   * about it, written to the outbox (returned: their ids, to queue). Without `generation` it is a
   * step of one (a suspension applied before the rest of its change).
   */
  async recordApplied(
    id: string,
    r: {
      generation?: number;
      state: DesiredState;
      outputs: Record<string, unknown> | null;
      appliedSpec?: Record<string, unknown>;
      databasePlacement?: DatabasePlacement;
      retiredDatabases?: RetiredDatabase[];
      operation?: {
        id: string;
        changes: Record<string, number>;
        details?: Record<string, unknown>;
      };
      mails?: Mail[];
    },
  ): Promise<string[]> {
    return this.transaction(async (client) => {
      if (r.operation)
        await client.query(
          `UPDATE operations SET status = 'succeeded', finished_at = now(), changes = $2,
             details = coalesce(details, '{}'::jsonb) || coalesce($3, '{}'::jsonb)
           WHERE id = $1 AND status = 'running'`,
          [r.operation.id, r.operation.changes, r.operation.details ?? null],
        );
      await client.query(
        `UPDATE tenants SET observed_generation = GREATEST(observed_generation, coalesce($2, 0)),
           observed_state = $3, outputs = $4, applied_spec = coalesce($5, applied_spec),
           database_placement = coalesce($6, database_placement),
           retired_databases = coalesce($7, retired_databases),
           database_move = CASE WHEN $6::text IS NULL THEN database_move END,
           last_error = CASE WHEN $2::int IS NULL THEN last_error END, updated_at = now()
         WHERE id = $1`,
        [
          id,
          r.generation ?? null,
          r.state,
          r.outputs,
          r.appliedSpec ?? null,
          r.databasePlacement ?? null,
          r.retiredDatabases ? JSON.stringify(r.retiredDatabases) : null,
        ],
      );
      return this.addMails(client, r.mails ?? []);
    });
  }

  /** Mails written to the outbox inside the caller's transaction; their ids. */
  private async addMails(client: PoolClient, mails: Mail[]): Promise<string[]> {
    const ids: string[] = [];
    for (const m of mails) {
      const r = await client.query(
        "INSERT INTO mail_outbox (to_address, subject, body) VALUES ($1, $2, $3) RETURNING id",
        [m.to, m.subject, m.text],
      );
      ids.push(String(r.rows[0].id));
    }
    return ids;
  }

  /**
   * Places a tenant on a node, once: a tenant already placed keeps its node (two workers racing
   * on a new tenant agree on the first one's choice). The node it is on.
   */
  async placeOnNode(id: string, node: string): Promise<string> {
    const r = await this.pool.query(
      `UPDATE tenants SET node = coalesce(node, $2), updated_at = now() WHERE id = $1 RETURNING node`,
      [id, node],
    );
    return r.rows[0]?.node ?? node;
  }

  /** A node move's progress (null: none under way). */
  async recordNodeMove(id: string, move: NodeMoveProgress | null): Promise<void> {
    await this.pool.query("UPDATE tenants SET node_move = $2 WHERE id = $1", [
      id,
      move ? JSON.stringify(move) : null,
    ]);
  }

  /** A move's switch: the tenant is on `node` from now on (it answers there). */
  async switchNode(id: string, node: string, move: NodeMoveProgress): Promise<void> {
    await this.pool.query(
      "UPDATE tenants SET node = $2, node_move = $3, updated_at = now() WHERE id = $1",
      [id, node, JSON.stringify(move)],
    );
  }

  /** How many tenants that are not deleted are on each node. */
  async tenantsPerNode(): Promise<Map<string, number>> {
    const r = await this.pool.query(
      `SELECT node, count(*)::int AS n FROM tenants
         WHERE node IS NOT NULL AND desired_state <> 'deleted' GROUP BY node`,
    );
    return new Map(r.rows.map((x) => [x.node as string, x.n as number]));
  }

  /** A database move's progress (null: none under way). */
  async recordMove(id: string, move: DatabaseMoveProgress | null): Promise<void> {
    await this.pool.query("UPDATE tenants SET database_move = $2 WHERE id = $1", [
      id,
      move ? JSON.stringify(move) : null,
    ]);
  }

  /**
   * Databases moves left behind whose retention has ended are dropped from their tenants' stacks:
   * a new generation each, which the reconciler applies. The tenants concerned.
   */
  async dropRetiredDatabases(now: Date): Promise<string[]> {
    const r = await this.pool.query(
      `UPDATE tenants SET retired_databases = coalesce((SELECT jsonb_agg(d) FROM jsonb_array_elements(retired_databases) d
           WHERE (d->>'keptUntil')::timestamptz > $1), '[]'),
         desired_generation = desired_generation + 1, updated_at = now()
       WHERE desired_state <> 'deleted' AND EXISTS (SELECT 1 FROM jsonb_array_elements(retired_databases) d
           WHERE (d->>'keptUntil')::timestamptz <= $1)
       RETURNING id`,
      [now],
    );
    return r.rows.map((x) => x.id);
  }

  /** The reconcile of `generation` failed for good: the sweeper stops retrying it. */
  async recordGaveUp(id: string, generation: number) {
    await this.pool.query("UPDATE tenants SET failed_generation = $2 WHERE id = $1", [
      id,
      generation,
    ]);
  }

  /** An operator asks for another try. */
  async clearGaveUp(id: string) {
    await this.pool.query("UPDATE tenants SET failed_generation = NULL WHERE id = $1", [id]);
  }

  /** Terminated tenants whose grace period has ended (the retention job deletes them). */
  async pastRetention(now: Date): Promise<Tenant[]> {
    const r = await this.pool.query(
      "SELECT * FROM tenants WHERE desired_state = 'terminated' AND data_kept_until <= $1 ORDER BY id",
      [now],
    );
    return r.rows.map(row);
  }

  async recordError(id: string, error: string) {
    await this.pool.query("UPDATE tenants SET last_error = $2, updated_at = now() WHERE id = $1", [
      id,
      error,
    ]);
  }
}
