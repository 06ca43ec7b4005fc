package dev.panllama.tokenizer;

/**
 * A pre-tokenizer regex that llama.cpp evaluates by hand over Unicode properties rather than with
 * std::regex (GPT-2's, Llama 3's): each segment is cut into pieces from left to right, each piece
 * ending where {@link #matchAt} says.
 */
abstract class HandWrittenSplit implements SplitPass {
    @Override
    public final IntList split(int[] cps, IntList segments) {
        IntList pieces = new IntList(segments.size() * 4);
        int start = 0;
        for (int s = 0; s < segments.size(); s++) {
            Segment seg = new Segment(cps, start, start + segments.get(s));
            start = seg.to();
            int pos = seg.from();
            while (pos < seg.to()) {
                int end = matchAt(seg, pos);
                pieces.add(end - pos);
                pos = end;
            }
        }
        return pieces;
    }

    /** End of the piece that starts at {@code pos} (after pos: text the regex leaves unmatched is one code point). */
    abstract int matchAt(Segment seg, int pos);
}
