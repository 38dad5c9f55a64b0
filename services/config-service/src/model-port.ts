/**
 * Stand-in for the `@fedview/model` key helpers while that package is being written: the Calico etcd
 * key of an RCC. Replaced by the model's `toEtcdKey`/`parseEtcdKey` as soon as they land.
 */
export const RCC_ETCD_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";

export function rccEtcdKey(name: string): string {
  return `${RCC_ETCD_PREFIX}${name}`;
}

export function rccNameFromEtcdKey(key: string): string | undefined {
  if (!key.startsWith(RCC_ETCD_PREFIX)) return undefined;
  const name = key.slice(RCC_ETCD_PREFIX.length);
  return name === "" || name.includes("/") ? undefined : name;
}
