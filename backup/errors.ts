/** A backup, verification, restore or export step failed; the message says which and why. */
export class BackupError extends Error {
  override readonly name = "BackupError";
}
