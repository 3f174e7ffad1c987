import type { Tensor } from '../tensor';

/** Parameters in the order and with the names of PyTorch's named_parameters(). */
export type NamedParameters = ReadonlyArray<readonly [string, Tensor]>;

export function prefixed(prefix: string, params: NamedParameters): NamedParameters {
  return params.map(([name, t]) => [prefix ? `${prefix}.${name}` : name, t] as const);
}
