import { checkCustomDomain } from "./custom-domain";

describe("checkCustomDomain", () => {
  it.each([
    ["erp.acme.org", "erp.acme.org"],
    ["  ERP.Acme.ORG.  ", "erp.acme.org"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["a-b.c-d.example", "a-b.c-d.example"],
  ])("takes %j as %j", (input, domain) =>
    expect(checkCustomDomain(input, "odoo.example.com")).toEqual({ ok: true, domain }),
  );

  it.each([
    ["", "empty"],
    ["10.0.0.1", "an IP address, not a domain name"],
    ["[::1]", "an IP address, not a domain name"],
    ["*.acme.org", "a wildcard: name each host"],
    ["https://acme.org", "a host name only (no scheme, port or path)"],
    ["acme.org:443", "a host name only (no scheme, port or path)"],
    ["acme.org/web", "a host name only (no scheme, port or path)"],
    ["localhost", "a single label: use a full domain name"],
    ["-bad.acme.org", "not a valid domain name"],
    ["bad_.acme.org", "not a valid domain name"],
    [`${"a".repeat(64)}.org`, "not a valid domain name"],
    ["1.2.3.999", "not a valid domain name"],
    ["odoo.example.com", "one of the platform's own names (odoo.example.com and its subdomains)"],
    [
      "api.odoo.example.com",
      "one of the platform's own names (odoo.example.com and its subdomains)",
    ],
    [
      "KAUI.Odoo.Example.com.",
      "one of the platform's own names (odoo.example.com and its subdomains)",
    ],
    [
      "other.acme.odoo.example.com",
      "one of the platform's own names (odoo.example.com and its subdomains)",
    ],
  ])("refuses %j: %s", (input, reason) =>
    expect(checkCustomDomain(input, "odoo.example.com")).toEqual({ ok: false, reason }),
  );

  it("does not mistake a look-alike for the platform's domain", () =>
    expect(checkCustomDomain("evilodoo.example.com", "odoo.example.com")).toEqual({
      ok: true,
      domain: "evilodoo.example.com",
    }));
});
