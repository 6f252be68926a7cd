import { describe, expect, it } from "vitest";
import { AppError } from "../../domain/errors.js";
import { parseScanReply } from "./reply.js";

const errorOf = (reply: string): AppError => {
  try {
    parseScanReply(reply, "127.0.0.1:3310");
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error(`no error for ${reply}`);
};

describe("parseScanReply", () => {
  it("reads clean and infected answers", () => {
    expect(parseScanReply("stream: OK", "x")).toEqual({ clean: true });
    expect(parseScanReply("stream: Eicar-Test-Signature.UNOFFICIAL FOUND", "x")).toEqual({ clean: false, signature: "Eicar-Test-Signature.UNOFFICIAL" });
  });

  it("drops ExtendedDetectionInfo's (hash:size) from the signature", () => {
    expect(parseScanReply("stream: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND", "x"))
      .toEqual({ clean: false, signature: "Win.Test.EICAR_HDB-1" });
  });

  it("turns errors into dependency_down; the stream limit is not retryable", () => {
    const limit = errorOf("INSTREAM size limit exceeded. ERROR");
    expect(limit.code).toBe("dependency_down");
    expect(limit.details).toMatchObject({ reason: "stream_limit", retryable: false });
    const other = errorOf("Error processing command. ERROR");
    expect(other.code).toBe("dependency_down");
    expect(other.message).toContain("Error processing command. ERROR");
    expect(other.details.retryable).toBeUndefined();
    expect(errorOf("PONG").code).toBe("dependency_down");
    expect(errorOf("").code).toBe("dependency_down");
  });
});
