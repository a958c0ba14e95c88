// odoo-saas: loaded (`node --require`) into the dynamic-provider host our launcher
// (pulumi-resource-pulumi-nodejs) starts, before @pulumi/pulumi. The SDK's runtime loads, at start,
// what serializes a program's closures: TypeScript's compiler (3.259 loaded npm's Arborist too).
// A provider host never serializes anything (it runs code already serialized), yet loading them was
// 0.5 of the 0.8 CPU-seconds its start cost in every engine run (bench/profile). It loads on first use.
"use strict";
const Module = require("node:module");

const LAZY = [/[\\/]@pulumi[\\/]pulumi[\\/]typescript-shim\.js$/];

const load = Module._load;
Module._load = function (request, parent, isMain) {
  let file;
  try {
    file = Module._resolveFilename(request, parent, isMain);
  } catch {
    return load.apply(this, arguments);
  }
  if (!LAZY.some((pattern) => pattern.test(file))) return load.apply(this, arguments);
  let real;
  const target = () => (real ??= load.call(this, request, parent, isMain));
  // Says it is an ES module, so TypeScript's import helpers take it as it is (no key copying that
  // would load it at once); any other use loads the real module and answers from it.
  return new Proxy(
    {},
    {
      get: (_, key) => (key === "__esModule" ? true : target()[key]),
      has: (_, key) => key in target(),
      ownKeys: () => Reflect.ownKeys(target()),
      getOwnPropertyDescriptor: (_, key) => {
        const d = Object.getOwnPropertyDescriptor(target(), key);
        return d && { ...d, configurable: true };
      },
    },
  );
};
