package dev.panllama.tokenizer;

/**
 * One pass of llama.cpp's BPE pre-tokenizer (unicode_regex_split): each segment of the text, given as
 * a length in code points, is cut into pieces; unmatched stretches become pieces of their own. Passes
 * run in order, each refining the previous one's segments.
 */
interface SplitPass {
    /**
     * @param cps      the whole text as code points
     * @param segments lengths of consecutive segments covering cps
     * @return lengths of the pieces, covering cps in order
     */
    IntList split(int[] cps, IntList segments);
}
