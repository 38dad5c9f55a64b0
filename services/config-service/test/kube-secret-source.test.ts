import { startKubeApiServer, waitFor } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { createKubeConfig } from "../src/kube-client.js";
import { createKubeSecretSource } from "../src/kube-secret-source.js";

const SECRETS = { group: "", plural: "secrets" };

function secret(name: string, value: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "default" },
    data: { kubeconfig: Buffer.from(value).toString("base64") },
  };
}

describe("Kubernetes Secret source", () => {
  it("reads a Secret's data decoded, and undefined for a missing one", async () => {
    await using server = await startKubeApiServer();
    await using source = createKubeSecretSource({
      kubeConfig: createKubeConfig({ kubeconfig: await server.writeKubeconfig() }),
    });
    server.create(SECRETS, secret("access", "clusters: []"));
    expect(await source.read({ namespace: "default", name: "access" })).toEqual({ kubeconfig: "clusters: []" });
    expect(await source.read({ namespace: "default", name: "nothing" })).toBeUndefined();
  });

  it("tells a watcher when its Secret is created, changed and deleted, and not about other Secrets", async () => {
    await using server = await startKubeApiServer();
    await using source = createKubeSecretSource({
      kubeConfig: createKubeConfig({ kubeconfig: await server.writeKubeconfig() }),
    });
    let changes = 0;
    using _watch = source.watch({ namespace: "default", name: "access" }, () => changes++);
    await waitFor(() => source.status()["default/access"]?.synced, { message: "the Secret watch to sync" });
    expect(changes).toBe(0);
    server.create(SECRETS, secret("access", "v1"));
    await waitFor(() => changes === 1, { message: "the creation" });
    server.create(SECRETS, secret("unrelated", "x"));
    server.update(SECRETS, secret("access", "v2"));
    await waitFor(() => changes === 2, { message: "the update" });
    server.delete(SECRETS, "access", "default");
    await waitFor(() => changes === 3, { message: "the deletion" });
    server.update(SECRETS, secret("unrelated", "y"));
    server.create(SECRETS, secret("access", "v3"));
    await waitFor(() => changes === 4, { message: "the re-creation" });
    expect(changes).toBe(4);
  });

  it("keeps watching through a dropped connection and expired versions", async () => {
    await using server = await startKubeApiServer();
    await using source = createKubeSecretSource({
      kubeConfig: createKubeConfig({ kubeconfig: await server.writeKubeconfig() }),
      delay: async () => {},
    });
    server.create(SECRETS, secret("access", "v1"));
    let changes = 0;
    using _watch = source.watch({ namespace: "default", name: "access" }, () => changes++);
    await waitFor(() => changes === 1, { message: "the initial listing" });
    server.hangWatches();
    server.update(SECRETS, secret("access", "v2"));
    server.expireVersions();
    server.dropConnections();
    server.resumeWatches();
    await waitFor(() => changes === 2, { message: "the change made while disconnected" });
  });
});
