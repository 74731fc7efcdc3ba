// The OpenAPI document served by the running portal is valid OpenAPI 3.1: swagger-parser
// resolves every $ref and validates the whole document against the official OpenAPI 3.1 JSON
// Schema. (Its extra "spec" checks cover Swagger 2.0 only; the ones that matter for 3.x,
// unique operationIds and declared path parameters, are in server/tests/openapi.rs.)
import SwaggerParser from "@apidevtools/swagger-parser";
import { expect, test } from "@playwright/test";

test("GET /api/v1/openapi.json is a valid OpenAPI 3.1 document, without signing in", async ({ request }) => {
  const res = await request.get("/api/v1/openapi.json");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toBe("application/json");
  const doc = await res.json();
  expect(doc.openapi).toMatch(/^3\.1\./);
  expect(doc.info.title).toBe("Voice Customer Portal API");

  // validate() dereferences in place: give it a copy, keep `doc` for the checks below.
  const validated = await SwaggerParser.validate(structuredClone(doc));
  expect(validated.info.title).toBe("Voice Customer Portal API");

  // The document describes the portal it came from: each documented GET without path
  // parameters is routed (without credentials it may be refused, but by the route itself, not
  // by the API's "no such endpoint" fallback).
  const gets = Object.keys(doc.paths).filter((p) => doc.paths[p].get && !p.includes("{"));
  expect(gets.length).toBeGreaterThan(10);
  for (const path of gets) {
    const res = await request.get(`/api/v1${path}`);
    const body = await res.text();
    expect(body, `GET ${path}`).not.toContain("There is no API endpoint at this path");
  }
  const me = await request.get("/api/v1/me");
  expect(me.status()).toBe(401);
  expect((await me.json()).error.code).toBe("unauthenticated");
});

test("the validator refuses a broken document", async ({ request }) => {
  // The check above must be able to fail: the served document, broken in two ways.
  const doc = await (await request.get("/api/v1/openapi.json")).json();
  const brokenRef = structuredClone(doc);
  brokenRef.paths["/me"].get.responses["200"].content["application/json"].schema = {
    $ref: "#/components/schemas/NoSuchSchema",
  };
  await expect(SwaggerParser.validate(brokenRef)).rejects.toThrow(/NoSuchSchema/);
  // A response without its required description breaks the OpenAPI 3.1 schema.
  const invalid = structuredClone(doc);
  delete invalid.paths["/me"].get.responses["200"].description;
  await expect(SwaggerParser.validate(invalid)).rejects.toThrow(/description/);
});
