export * from "./errors";
export {
  automationSettingsFromEnv,
  type AutomationSettings,
  SettingsError,
  DEVELOPMENT_PASSPHRASE,
} from "./settings";
export {
  StackRunner,
  SECRET_MASK,
  type RunOptions,
  type StackTarget,
  type PreviewOutcome,
  type UpOutcome,
  type ResourceChange,
} from "./stack-runner";
export { TenantStacks, TENANT_PROJECT, type TenantProgramFactory } from "./tenant-stacks";
export { FINGERPRINT_OUTPUT } from "./inputs-fingerprint";
export type { ProgressEvent } from "./progress";
