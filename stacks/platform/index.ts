// Entry point of the platform project (Pulumi.yaml `main`): `pulumi up` / `pulumi preview`.
import { platformProgram } from "./program";

const outputs = platformProgram();
export const tenantSettings = outputs.tenantSettings;
export const postgresAdminPassword = outputs.postgresAdminPassword;
export const filestoreKey = outputs.filestoreKey;
export const urls = outputs.urls;
