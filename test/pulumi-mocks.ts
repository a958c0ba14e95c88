import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
  provider?: string;
}

/**
 * Pulumi mocks that record every registered resource with its exact inputs. Stack references
 * answer with the outputs given here, keyed by stack name (secret outputs listed apart).
 */
export class ResourceRecorder {
  readonly resources: RecordedResource[] = [];

  constructor(
    private readonly stacks: Record<
      string,
      { outputs: Record<string, unknown>; secret?: string[] }
    > = {},
  ) {}

  async install(): Promise<void> {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          this.resources.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs,
            custom: args.custom ?? true,
            provider: args.provider,
          });
          if (args.type === "pulumi:pulumi:StackReference") {
            const stack = this.stacks[args.inputs.name] ?? { outputs: {} };
            return {
              id: args.inputs.name,
              state: {
                name: args.inputs.name,
                outputs: stack.outputs,
                secretOutputNames: stack.secret ?? [],
              },
            };
          }
          // A generated secret's value: the one it adopts, else one named after it.
          if (args.type === "pulumi-nodejs:dynamic/odoo-saas:GeneratedSecret")
            return {
              id: `${args.name}-id`,
              state: { value: args.inputs.initial ?? `${args.name}-generated` },
            };
          return { id: args.custom === false ? undefined : `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
      },
      "odoo-saas-test",
      "test",
      false,
      "organization",
    );
  }

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  one(type: string): RecordedResource {
    const found = this.ofType(type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0];
  }

  /** Resolves once no registration has arrived for a few event-loop turns. */
  async settle(): Promise<void> {
    let last = -1;
    for (let quiet = 0; quiet < 5;) {
      await new Promise((r) => setTimeout(r, 5));
      quiet = this.resources.length === last ? quiet + 1 : 0;
      last = this.resources.length;
    }
  }

  types(): string[] {
    return this.resources.map((r) => r.type).sort();
  }
}

export const valueOf = <T>(o: pulumi.Output<T>): Promise<T> =>
  new Promise((resolve) => o.apply(resolve));

/** Labels given as the docker provider's [{label, value}] list, as a plain map. */
export const labelMap = (list: { label: string; value: string }[]): Record<string, string> =>
  Object.fromEntries(list.map((l) => [l.label, l.value]));

/** How the mock monitor presents a secret input (Pulumi's secret signature wrapper). */
export const secretValue = (value: unknown) => ({
  [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
  value,
});
