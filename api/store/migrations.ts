import type { Pool } from "pg";

/** Schema changes, applied in order once each, inside a transaction, under an advisory lock. */
const MIGRATIONS: { id: number; sql: string }[] = [
  {
    id: 1,
    sql: `
      CREATE TABLE tenants (
        id text PRIMARY KEY,
        customer_id text NOT NULL,
        -- desired spec without state: plan, odooVersion, adminEmail, subdomain, customDomains
        spec jsonb NOT NULL,
        desired_state text NOT NULL CHECK (desired_state IN ('active', 'suspended', 'deleted')),
        desired_generation integer NOT NULL DEFAULT 1,
        observed_generation integer NOT NULL DEFAULT 0,
        observed_state text CHECK (observed_state IN ('active', 'suspended', 'deleted')),
        outputs jsonb,
        last_error text,
        source text NOT NULL CHECK (source IN ('killbill', 'admin')),
        killbill_subscription_id text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX tenants_lagging ON tenants (id) WHERE observed_generation < desired_generation;

      CREATE TABLE operations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL,
        type text NOT NULL CHECK (type IN ('up', 'destroy')),
        generation integer NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        error text,
        log_tail text,
        changes jsonb
      );
      CREATE INDEX operations_tenant ON operations (tenant_id, started_at DESC);

      CREATE TABLE webhook_inbox (
        id bigserial PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now(),
        event_type text NOT NULL,
        object_type text,
        object_id text,
        account_id text,
        body jsonb NOT NULL,
        processed_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        result text
      );
      CREATE INDEX webhook_inbox_pending ON webhook_inbox (id) WHERE processed_at IS NULL;
    `,
  },
  {
    id: 2,
    sql: `
      -- The generation whose reconcile failed for good (no retry left, or invalid): the sweeper
      -- leaves it alone until the desired state changes or an operator asks for a reconcile.
      ALTER TABLE tenants ADD COLUMN failed_generation integer;
    `,
  },
  {
    id: 3,
    sql: `
      -- Which Kill Bill account holds the tenant, what billing alone says its state is, and an
      -- operator's hold that billing cannot lift; the desired state is derived from those.
      ALTER TABLE tenants ADD COLUMN killbill_account_id text;
      ALTER TABLE tenants ADD COLUMN billing_state text
        CHECK (billing_state IN ('active', 'suspended', 'deleted'));
      ALTER TABLE tenants ADD COLUMN operator_hold boolean NOT NULL DEFAULT false;
      ALTER TABLE tenants ADD COLUMN suspend_reason text
        CHECK (suspend_reason IN ('overdue', 'paused', 'operator'));
      UPDATE tenants SET billing_state = desired_state WHERE source = 'killbill';

      -- Subscriptions billing a customer that cannot (or may not) have an instance.
      CREATE TABLE billing_problems (
        subscription_id text PRIMARY KEY,
        account_id text,
        tenant_id text,
        problem text NOT NULL,
        first_seen timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz NOT NULL DEFAULT now(),
        notified_at timestamptz,
        resolved_at timestamptz
      );
      CREATE INDEX billing_problems_open ON billing_problems (first_seen) WHERE resolved_at IS NULL;
    `,
  },
  {
    id: 4,
    sql: `
      -- A cancelled tenant is terminated first: stopped, its data kept until data_kept_until;
      -- only then deleted (after a final verified backup, unless an operator skipped it).
      ALTER TABLE tenants DROP CONSTRAINT tenants_desired_state_check;
      ALTER TABLE tenants ADD CONSTRAINT tenants_desired_state_check
        CHECK (desired_state IN ('active', 'suspended', 'terminated', 'deleted'));
      ALTER TABLE tenants DROP CONSTRAINT tenants_observed_state_check;
      ALTER TABLE tenants ADD CONSTRAINT tenants_observed_state_check
        CHECK (observed_state IN ('active', 'suspended', 'terminated', 'deleted'));
      ALTER TABLE tenants DROP CONSTRAINT tenants_billing_state_check;
      ALTER TABLE tenants ADD CONSTRAINT tenants_billing_state_check
        CHECK (billing_state IN ('active', 'suspended', 'terminated', 'deleted'));
      UPDATE tenants SET billing_state = 'terminated' WHERE billing_state = 'deleted';
      ALTER TABLE tenants ADD COLUMN terminated_at timestamptz;
      ALTER TABLE tenants ADD COLUMN data_kept_until timestamptz;
      ALTER TABLE tenants ADD COLUMN deleted_at timestamptz;
      ALTER TABLE tenants ADD COLUMN skip_final_backup boolean NOT NULL DEFAULT false;
      CREATE INDEX tenants_terminated ON tenants (data_kept_until) WHERE desired_state = 'terminated';

      ALTER TABLE operations DROP CONSTRAINT operations_type_check;
      ALTER TABLE operations ADD CONSTRAINT operations_type_check
        CHECK (type IN ('up', 'destroy', 'backup', 'restore'));
      ALTER TABLE operations DROP CONSTRAINT operations_status_check;
      ALTER TABLE operations ADD CONSTRAINT operations_status_check
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'abandoned'));
      ALTER TABLE operations ADD COLUMN details jsonb;

      -- One row per backup (two restic snapshots: the database dump and the filestore).
      CREATE TABLE backups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL,
        reason text NOT NULL
          CHECK (reason IN ('scheduled', 'manual', 'pre-destroy', 'pre-change', 'pre-terminate')),
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
        plan text NOT NULL,
        odoo_version text NOT NULL,
        database_name text,
        database_snapshot text,
        filestore_snapshot text,
        bytes_processed bigint,
        bytes_added bigint,
        filestore_entries integer,
        duration_ms integer,
        verified_at timestamptz,
        pg_version text,
        modules jsonb,
        -- The database's fingerprint when it was taken; an unchanged database reuses the dump.
        database_fingerprint text,
        database_reused boolean NOT NULL DEFAULT false,
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        -- Dropped from the repository by the retention policy (or the deleted tenant's expiry).
        forgotten_at timestamptz
      );
      CREATE INDEX backups_tenant ON backups (tenant_id, started_at DESC);
    `,
  },
  {
    id: 5,
    sql: `
      -- Where each billed tenant stands with its bill (re-read from Kill Bill), and its history.
      ALTER TABLE tenants ADD COLUMN billing_status text CHECK (billing_status IN
        ('trial', 'payment_required', 'paid', 'overdue', 'suspended', 'ended'));
      -- A requested cancellation: the day the subscription ends.
      ALTER TABLE tenants ADD COLUMN billing_ends_on date;
      ALTER TABLE tenants DROP CONSTRAINT tenants_suspend_reason_check;
      ALTER TABLE tenants ADD CONSTRAINT tenants_suspend_reason_check
        CHECK (suspend_reason IN ('overdue', 'paused', 'operator', 'payment_failed'));
      CREATE TABLE billing_transitions (
        id bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        from_status text,
        to_status text NOT NULL,
        -- The Kill Bill event (type and inbox id) or job that made us read the change.
        cause text NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX billing_transitions_tenant ON billing_transitions (tenant_id, id);

      -- One trial per customer, ever: the subscription that had it.
      CREATE TABLE trials (
        customer_id text PRIMARY KEY,
        subscription_id text NOT NULL,
        tenant_id text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO trials (customer_id, subscription_id, tenant_id, started_at)
        SELECT DISTINCT ON (customer_id) customer_id, killbill_subscription_id, id, created_at
        FROM tenants WHERE source = 'killbill' AND killbill_subscription_id IS NOT NULL
          AND spec->>'plan' = 'trial'
        ORDER BY customer_id, created_at;

      -- Invoices whose collection failed (INVOICE_PAYMENT_FAILED, checked against the invoice):
      -- while one is still open, the account's tenants are suspended.
      CREATE TABLE payment_failures (
        invoice_id text PRIMARY KEY,
        account_id text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX payment_failures_account ON payment_failures (account_id);
    `,
  },
  {
    id: 6,
    sql: `
      -- The admin list's filtered pages: by state (and plan) in id order, without a scan.
      CREATE INDEX tenants_state_plan ON tenants (desired_state, (spec->>'plan'), id);
    `,
  },
  {
    id: 7,
    sql: `
      -- Mail to send, kept until sent: the queue (Redis) holds only its id.
      CREATE TABLE mail_outbox (
        id bigserial PRIMARY KEY,
        to_address text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      );
      CREATE INDEX mail_outbox_unsent ON mail_outbox (id) WHERE sent_at IS NULL;
    `,
  },
  {
    id: 8,
    sql: `
      -- One sender at a time per mail, across API processes and retries: a sender claims the
      -- row until this time before it talks to SMTP.
      ALTER TABLE mail_outbox ADD COLUMN claimed_until timestamptz;
    `,
  },
  {
    id: 9,
    sql: `
      -- The latest drift check: resources changed or deleted out of band ([] when none).
      ALTER TABLE tenants ADD COLUMN drift jsonb, ADD COLUMN drift_checked_at timestamptz;
      CREATE INDEX tenants_drifted ON tenants (id) WHERE jsonb_array_length(drift) > 0;
    `,
  },
  {
    id: 10,
    sql: `
      -- Where the tenant's database is: set by the run that provisions it and changed only by a
      -- completed move, never by a plan alone. Databases a move left behind are kept until their
      -- date; a move under way keeps its progress. The stack spec the last successful run applied.
      ALTER TABLE tenants
        ADD COLUMN database_placement text CHECK (database_placement IN ('shared', 'dedicated')),
        ADD COLUMN retired_databases jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN database_move jsonb,
        ADD COLUMN applied_spec jsonb;
      UPDATE tenants SET database_placement = outputs->>'databasePlacement'
        WHERE outputs->>'databasePlacement' IN ('shared', 'dedicated');
      UPDATE tenants SET applied_spec = spec || jsonb_build_object('tenantId', id,
          'customerId', customer_id,
          'state', CASE WHEN desired_state = 'active' THEN 'active' ELSE 'suspended' END)
        WHERE observed_generation >= desired_generation AND observed_state IS NOT NULL
          AND observed_state <> 'deleted';
    `,
  },
  {
    id: 11,
    sql: `
      -- Billing work that failed, contained to its unit (an event, a subscription, an account):
      -- retried with backoff on its own while everything else goes on; shown to operators.
      CREATE TABLE billing_quarantine (
        key text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('event', 'subscription', 'account')),
        subject_id text NOT NULL,
        account_id text,
        tenant_id text,
        reason text NOT NULL,
        cause text,
        attempts integer NOT NULL DEFAULT 1,
        first_failed timestamptz NOT NULL DEFAULT now(),
        last_failed timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL,
        notified_at timestamptz,
        resolved_at timestamptz
      );
      CREATE INDEX billing_quarantine_due ON billing_quarantine (next_attempt_at)
        WHERE resolved_at IS NULL;
    `,
  },
  {
    id: 12,
    sql: `
      -- Swarm on several nodes: the node holding the tenant's local volumes, chosen once before
      -- its first run (null: the platform's volume node). Only a move changes it; a move under
      -- way keeps its progress.
      ALTER TABLE tenants ADD COLUMN node text, ADD COLUMN node_move jsonb;
      ALTER TABLE operations DROP CONSTRAINT operations_type_check;
      ALTER TABLE operations ADD CONSTRAINT operations_type_check
        CHECK (type IN ('up', 'destroy', 'backup', 'restore', 'move'));
    `,
  },
  {
    id: 13,
    sql: `
      -- The daily restore drill: a tenant's latest backup restored into a scratch database and
      -- volume, checked, and dropped. Each run is kept (its checks, or why it failed).
      CREATE TABLE restore_drills (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL,
        backup_id uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        details jsonb,
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX restore_drills_tenant ON restore_drills (tenant_id, started_at DESC);
    `,
  },
  {
    id: 14,
    sql: `
      -- Customers' own domains: claimed by one tenant at a time (the primary key), attached to its
      -- routes once verified (pointing at the platform, and the owner's TXT token).
      CREATE TABLE tenant_domains (
        domain text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants (id),
        token text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'verified')),
        last_check_error text,
        last_checked_at timestamptz,
        verified_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);
    `,
  },
  {
    id: 15,
    sql: `
      -- Idle tenants sleep: since when this one does (null: awake), and when its gateway last
      -- reported it in use. A change of the desired state ends a sleep.
      ALTER TABLE tenants ADD COLUMN sleeping_since timestamptz,
        ADD COLUMN last_activity_at timestamptz;
    `,
  },
  {
    id: 16,
    sql: `
      -- Metered usage. Every measurement as taken (what each usage line traces back to), a
      -- failed one with its error: a failure is never a zero.
      CREATE TABLE usage_measurements (
        id bigserial PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants (id),
        measured_at timestamptz NOT NULL,
        day date NOT NULL,
        plan text NOT NULL,
        users integer,
        database_bytes bigint,
        filestore_bytes bigint,
        error text
      );
      CREATE INDEX usage_measurements_tenant ON usage_measurements (tenant_id, measured_at);
      -- One row per tenant, unit and day (UTC): the day's peak, and what Kill Bill was told. The
      -- tracking id <tenant>:<unit>:<day> makes a replay change nothing there.
      CREATE TABLE usage_days (
        tenant_id text NOT NULL REFERENCES tenants (id),
        unit text NOT NULL,
        day date NOT NULL,
        amount bigint NOT NULL,
        plan text NOT NULL,
        measurements integer NOT NULL DEFAULT 1,
        last_measured_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'measured'
          CHECK (status IN ('measured', 'recorded', 'not_billed', 'outside_window')),
        subscription_id text,
        recorded_at timestamptz,
        killbill_answer text,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        corrected_by text,
        PRIMARY KEY (tenant_id, unit, day)
      );
      CREATE INDEX usage_days_unsent ON usage_days (day) WHERE status = 'measured';
      -- A tenant past a plan's cap: since when, and when its customer was told.
      CREATE TABLE usage_limits (
        tenant_id text NOT NULL REFERENCES tenants (id),
        unit text NOT NULL,
        amount bigint NOT NULL,
        cap bigint NOT NULL,
        over_since timestamptz NOT NULL,
        notified_at timestamptz,
        PRIMARY KEY (tenant_id, unit)
      );
    `,
  },
  {
    id: 17,
    sql: `
      -- The monitoring's heartbeat (a dead man's switch): Alertmanager sends its always-firing
      -- Watchdog here every minute; silence means Prometheus or Alertmanager is gone, which they
      -- cannot alert about themselves. One row: since when it is watched (an API process starting
      -- arms it again), the last heartbeat, and the silence the operator was told about (null:
      -- none open).
      CREATE TABLE monitoring_heartbeat (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        watched_since timestamptz NOT NULL DEFAULT now(),
        received_at timestamptz,
        silence_mailed_at timestamptz
      );
    `,
  },
];

export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    // Several API replicas may start at once: one migrates, the others wait.
    await client.query("SELECT pg_advisory_lock(hashtext('odoo-saas-migrations'))");
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set(
      (await client.query("SELECT id FROM schema_migrations")).rows.map((r) => r.id as number),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.id)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (id) VALUES ($1)", [m.id]);
        await client.query("COMMIT");
        applied.push(m.id);
      } catch (e) {
        await client.query("ROLLBACK");
        throw e;
      }
    }
  } finally {
    await client
      .query("SELECT pg_advisory_unlock(hashtext('odoo-saas-migrations'))")
      .catch(() => undefined);
    client.release();
  }
  return applied;
}
