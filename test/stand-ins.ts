// What stands in for what in a suite, named in its title so a reader of the results knows what
// was real: the provider-free tenant program (test/provider-free-program.ts) exercises the API and
// the automation layer, not the tenant's resources; the Odoo stand-in (images/odoo-stand-in) is
// not Odoo; the Kill Bill stand-in (test/killbill-stand-in.ts) is not Kill Bill.
export const PROVIDER_FREE = "[provider-free tenant program]";
export const ODOO_STAND_IN = "[Odoo stand-in]";
export const KILL_BILL_STAND_IN = "[Kill Bill stand-in]";
