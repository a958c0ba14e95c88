/**
 * What the alert rules read from the API's store (components/platform/alert-rules.ts), in one
 * round trip per scrape. Ages are in seconds, measured by the database's clock.
 */
export interface FleetHealth {
  /** Active, provisioned tenants: time since their newest verified backup (else since created). */
  backupAge: Map<string, number>;
  /** Tenants behind their desired state (not given up): time since the change began. */
  unconverged: Map<string, number>;
  /** Tenants whose desired state the workers gave up on. */
  givenUp: string[];
  /** The oldest Kill Bill event not processed yet, 0 when none waits. */
  inboxOldest: number;
  /** The oldest mail not delivered yet, 0 when none waits. */
  mailOldest: number;
  /**
   * When a restore drill last succeeded (epoch seconds); before the first one, when the oldest
   * backup still in the repository was taken (its restore is unproven since); now without backups.
   */
  drillLastSuccess: number;
  /** Active tenants whose latest restore drill failed. */
  drillFailing: string[];
  /** Measured tenants (active or suspended, provisioned): time since their last measurement. */
  usageMeasurementAge: Map<string, number>;
  /** Closed days Kill Bill does not have and needs an operator for: failing, or too late. */
  usageUnrecorded: Map<string, number>;
  /** Tenants past a cap of their plan, by unit: the measured amount. */
  overLimit: { tenant: string; unit: string; amount: number; cap: number }[];
}
