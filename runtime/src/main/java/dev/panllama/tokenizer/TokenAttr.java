package dev.panllama.tokenizer;

/**
 * Token attribute bits (llama.h's llama_token_attr) and their derivation from the GGUF
 * {@code tokenizer.ggml.token_type} values (llama_token_type: 0 undefined, 1 normal, 2 unknown,
 * 3 control, 4 user-defined, 5 unused, 6 byte).
 */
final class TokenAttr {
    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;
    static final int NORMALIZED = 1 << 6;
    static final int LSTRIP = 1 << 7;
    static final int RSTRIP = 1 << 8;
    static final int SINGLE_WORD = 1 << 9;

    private TokenAttr() {}

    static int fromTokenType(long type) {
        if (type < 0 || type > 6) return UNDEFINED;
        return switch ((int) type) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> UNDEFINED;
        };
    }
}
