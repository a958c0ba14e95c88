import { noticeFor } from "./reconciler";

describe("noticeFor: the customer e-mail a transition deserves", () => {
  it.each([
    [null, "active", "ready"],
    ["deleted", "active", "ready"],
    ["active", "active", undefined], // a resize
    ["suspended", "active", "resumed"],
    ["active", "suspended", "suspended"],
    [null, "suspended", undefined],
    ["suspended", "suspended", undefined],
    ["active", "deleted", "deleted"],
    ["suspended", "deleted", "deleted"],
    [null, "deleted", undefined], // never provisioned: nothing to tell
    ["deleted", "deleted", undefined],
  ] as const)("%s -> %s: %s", (previous, next, notice) => {
    expect(noticeFor(previous, next)).toBe(notice);
  });
});
