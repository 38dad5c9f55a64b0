/** Writing Calico v3 resources into an etcd the way Calico stores them (calico.md §4). */
import { type CalicoResource, encodeEtcdResource } from "@fedview/model";
import { Etcd3, type IOptions } from "etcd3";

/**
 * Puts every resource at its Calico key (`/calico/resources/v3/projectcalico.org/…`), skipping keys that
 * already hold the same value, so seeding twice changes no revision. Resolves once all are written.
 */
export async function putCalicoResources(options: IOptions, resources: readonly CalicoResource[]): Promise<number> {
  const client = new Etcd3(options);
  try {
    let written = 0;
    for (const resource of resources) {
      const { key, value } = encodeEtcdResource(resource);
      if ((await client.get(key).string()) === value) continue;
      await client.put(key).value(value);
      written++;
    }
    return written;
  } finally {
    client.close();
  }
}
