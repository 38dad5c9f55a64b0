/** Reading the `FEDVIEW_NATS_*` environment into connection options. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BusConfigError, busConnectOptionsFromEnv, envBoolean, envInteger, envOptional } from "../src/index.js";

describe("busConnectOptionsFromEnv", () => {
  it("defaults to NATS on localhost with the service's name", () => {
    expect(busConnectOptionsFromEnv({}, { name: "fedview-test" })).toStrictEqual({
      servers: ["nats://127.0.0.1:4222"],
      name: "fedview-test",
    });
  });

  it("reads every variable, trimming all but the password", () => {
    const options = busConnectOptionsFromEnv(
      {
        FEDVIEW_NATS_URL: " tls://a:4222, ,tls://b:4222 ",
        FEDVIEW_NATS_USER: " svc ",
        FEDVIEW_NATS_PASSWORD: " pw ",
        FEDVIEW_NATS_TLS_CA_FILE: " /ca.pem ",
        FEDVIEW_NATS_TLS_CERT_FILE: "/tls.crt",
        FEDVIEW_NATS_TLS_KEY_FILE: "/tls.key",
        UNRELATED: "ignored",
      },
      { name: "fedview-test", reconnect: { waitOnFirstConnect: true } },
    );
    expect(options).toStrictEqual({
      servers: ["tls://a:4222", "tls://b:4222"],
      name: "fedview-test",
      reconnect: { waitOnFirstConnect: true },
      user: "svc",
      password: " pw ",
      tls: { caFile: "/ca.pem", certFile: "/tls.crt", keyFile: "/tls.key" },
    });
  });

  it.each([
    ["token", { FEDVIEW_NATS_TOKEN: "t" }, { token: "t" }],
    ["nkey seed file", { FEDVIEW_NATS_NKEY_SEED_FILE: "/n.nk" }, { nkeySeedFile: "/n.nk" }],
    ["credentials file", { FEDVIEW_NATS_CREDS_FILE: "/x.creds" }, { credentialsFile: "/x.creds" }],
    ["blank values as unset", { FEDVIEW_NATS_TOKEN: "  ", FEDVIEW_NATS_TLS_CA_FILE: "" }, {}],
  ])("reads the %s", (_label, env, expected) => {
    expect(busConnectOptionsFromEnv(env, { name: "n" })).toStrictEqual({
      servers: ["nats://127.0.0.1:4222"],
      name: "n",
      ...expected,
    });
  });

  it.each([
    ["two authentication methods", { FEDVIEW_NATS_TOKEN: "t", FEDVIEW_NATS_CREDS_FILE: "/x.creds" }],
    ["a certificate without its key", { FEDVIEW_NATS_TLS_CERT_FILE: "/tls.crt" }],
    ["no server", { FEDVIEW_NATS_URL: " , " }],
  ])("rejects %s with BusConfigError", (_label, env) => {
    expect(() => busConnectOptionsFromEnv(env, { name: "n" })).toThrow(BusConfigError);
    expect(() => busConnectOptionsFromEnv(env, { name: "n" })).toThrow(/^invalid NATS settings: /);
  });

  it("never puts a secret value into the error", () => {
    const env = { FEDVIEW_NATS_TOKEN: "tok-secret", FEDVIEW_NATS_USER: "u", FEDVIEW_NATS_PASSWORD: "pw-secret" };
    expect(() => busConnectOptionsFromEnv(env, { name: "n" })).toThrow(BusConfigError);
    try {
      busConnectOptionsFromEnv(env, { name: "n" });
    } catch (error) {
      expect((error as Error).message).not.toMatch(/tok-secret|pw-secret/);
    }
  });
});

describe("environment field parsers", () => {
  const schema = z.object({ FLAG: envBoolean(true), COUNT: envInteger(7, 1), NAME: envOptional });

  it.each([
    [{}, { FLAG: true, COUNT: 7 }],
    [
      { FLAG: " off ", COUNT: "12", NAME: "  a  " },
      { FLAG: false, COUNT: 12, NAME: "a" },
    ],
    [
      { FLAG: "YES", COUNT: " ", NAME: " " },
      { FLAG: true, COUNT: 7 },
    ],
  ])("reads %j as %j", (env, expected) => {
    expect(schema.parse(env)).toEqual(expected);
  });

  it.each([
    [{ FLAG: "maybe" }, 'FLAG: expected true or false, got "maybe"'],
    [{ COUNT: "0" }, 'COUNT: expected an integer ≥ 1, got "0"'],
    [{ COUNT: "1.5" }, 'COUNT: expected an integer ≥ 1, got "1.5"'],
  ])("rejects %j", (env, message) => {
    const result = schema.safeParse(env);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([message]);
  });
});
