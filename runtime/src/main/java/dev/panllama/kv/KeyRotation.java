package dev.panllama.kv;

import java.util.function.Consumer;

/**
 * How a context shift re-rotates the key rows it moves: RoPE's angles are linear in the position, so a
 * key moved by {@code delta} positions takes one more rotation by delta's angles. The model knows where
 * RoPE sits in a key row ({@code model.KeyRope}); the cache only moves rows.
 */
public interface KeyRotation {
    /** The in-place rotation of one decoded key row that moves it by {@code delta} positions. */
    Consumer<float[]> by(int delta);
}
