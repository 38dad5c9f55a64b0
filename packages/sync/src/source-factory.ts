import type { Logger } from "pino";
import type { ClusterConnection, ClusterSource, ClusterSourceFactory } from "./types.js";

/** What a connector reads out of a connection config: its datastore's material and the routing mode. */
export interface SourceMaterial<Material> {
  material: Material;
  overlayRouting: boolean;
}

/**
 * A `ClusterSourceFactory` for `ClusterSync`: per connection config, reads the material with
 * `materialFromConnection` (which may throw for material that cannot work) and builds one source
 * with the shared `options`, the cluster's name, and a logger child naming the cluster.
 */
export function createClusterSourceFactory<Material, Options extends { logger?: Logger }>(
  options: Options,
  materialFromConnection: (connection: ClusterConnection) => SourceMaterial<Material>,
  createSource: (options: Options & { cluster: string; material: Material; overlayRouting: boolean }) => ClusterSource,
): ClusterSourceFactory {
  return (connection) => {
    const { material, overlayRouting } = materialFromConnection(connection);
    return createSource({
      ...options,
      cluster: connection.cluster,
      material,
      overlayRouting,
      ...(options.logger ? { logger: options.logger.child({ cluster: connection.cluster }) } : {}),
    });
  };
}
