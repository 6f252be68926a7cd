import { describe, expect, it } from "vitest";

import { parseS3Url } from "./storage-url.js";

describe("parseS3Url", () => {
  it("reads the test server's URL", () => {
    expect(parseS3Url("s3://assetd-test?endpoint=http://127.0.0.1:8081&region=us-east-1&forcePathStyle=true")).toEqual({
      bucket: "assetd-test",
      endpoint: "http://127.0.0.1:8081",
      region: "us-east-1",
      forcePathStyle: true,
    });
  });

  it("reads a prefix, credentials and sizes", () => {
    expect(
      parseS3Url("s3://media.example/tenants/a/?accessKeyId=AK&secretAccessKey=s%2Fk&partSize=16777216&multipartThreshold=0&forcePathStyle=false"),
    ).toEqual({
      bucket: "media.example",
      prefix: "tenants/a",
      accessKeyId: "AK",
      secretAccessKey: "s/k",
      partSize: 16_777_216,
      multipartThreshold: 0,
      forcePathStyle: false,
    });
  });

  it("leaves credentials to the SDK's default chain (AWS_ACCESS_KEY_ID…) when the URL has none", () => {
    expect(parseS3Url("s3://bucket")).toEqual({ bucket: "bucket" });
  });

  it.each([
    ["http://bucket", /s3: scheme/],
    ["s3://", /bucket name/],
    ["s3://Bucket", /bucket name/],
    ["s3://b", /bucket name/],
    ["s3://key:secret@bucket", /AWS_ACCESS_KEY_ID/],
    ["s3://bucket:9000", /endpoint/],
    ["s3://bucket?endpoint=ftp://host", /endpoint must be/],
    ["s3://bucket?endpoint=not a url", /endpoint must be/],
    ["s3://bucket?forcePathStyle=maybe", /forcePathStyle/],
    ["s3://bucket?accessKeyId=only", /both accessKeyId and secretAccessKey/],
    ["s3://bucket?partSize=5MB", /partSize/],
    ["s3://bucket?regoin=us-east-1", /unknown parameter 'regoin'/],
    ["s3://bucket?region=a&region=b", /more than once/],
    ["not a url", /not a URL/],
  ])("refuses %j", (url, message) => {
    expect(() => parseS3Url(url)).toThrow(message);
  });

  it("never repeats a secret in its errors", () => {
    expect(() => parseS3Url("s3://bucket?secretAccessKey=hunter2&bogus=1")).toThrow(expect.objectContaining({
      message: expect.not.stringContaining("hunter2") as unknown,
    }));
  });
});
