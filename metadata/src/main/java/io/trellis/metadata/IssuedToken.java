package io.trellis.metadata;

/** A token just created: {@code secret} is shown to its creator once and is not stored anywhere. */
public record IssuedToken(ApiTokenRecord token, String secret) {
    @Override
    public String toString() {
        return "IssuedToken[" + token + ", secret=(hidden)]";
    }
}
