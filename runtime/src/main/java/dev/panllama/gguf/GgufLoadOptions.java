package dev.panllama.gguf;

import dev.panllama.util.NativeMemory.Advice;
import dev.panllama.util.ProgressListener;

/**
 * How a GGUF file is brought into memory.
 *
 * @param mmap     map the file (zero copy, the default); false reads it into anonymous memory (--no-mmap)
 * @param mlock    lock the weights in RAM (--mlock)
 * @param advice   madvise hint for the mapping
 * @param progress receives read progress (only --no-mmap has any)
 */
public record GgufLoadOptions(boolean mmap, boolean mlock, Advice advice, ProgressListener progress) {

    /** Map, no lock, no hint: what inspecting a file needs. */
    public static final GgufLoadOptions INSPECT = new GgufLoadOptions(true, false, Advice.NONE, ProgressListener.NONE);

    /** Map and ask the kernel to read ahead: what running a model wants (llama.cpp's prefetch). */
    public static final GgufLoadOptions MODEL = new GgufLoadOptions(true, false, Advice.WILLNEED, ProgressListener.NONE);

    public GgufLoadOptions withMmap(boolean m) { return new GgufLoadOptions(m, mlock, advice, progress); }

    public GgufLoadOptions withMlock(boolean m) { return new GgufLoadOptions(mmap, m, advice, progress); }

    public GgufLoadOptions withAdvice(Advice a) { return new GgufLoadOptions(mmap, mlock, a, progress); }

    public GgufLoadOptions withProgress(ProgressListener p) { return new GgufLoadOptions(mmap, mlock, advice, p); }
}
