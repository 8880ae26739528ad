package dev.warmroute.engine.tokenizer;

import java.util.PriorityQueue;

/**
 * The merge loop both tokenizers share (llama.cpp's {@code llm_tokenizer_bpe} and {@code llm_tokenizer_spm} alike):
 * the text starts as a linked list of symbols, and the adjacent pair that {@link PairRank} ranks first is merged
 * (leftmost first on ties), again and again, until no adjacent pair merges. The tokenizers differ only in the
 * initial symbols and in how a pair is ranked.
 *
 * <p>A priority queue of candidate pairs keeps it O(n log n); a pair queued before one of its sides was merged
 * into something else is stale and skipped when it comes out (its size no longer matches).
 */
final class SymbolMerger {

    /** How a tokenizer ranks the merge of two adjacent symbols. */
    interface PairRank {
        /**
         * The rank of merging the symbol at {@code [start, start + leftLen)} with the {@code rightLen} chars after
         * it: smaller merges first; NaN: the pair does not merge.
         */
        double rank(String text, int start, int leftLen, int rightLen);
    }

    private record Pair(int left, int right, double rank, int size) {}

    private SymbolMerger() {}

    /**
     * Merges the {@code n} initial symbols in place: on return the symbols left are the list from 0 through
     * {@code next} (-1 ends it), symbol i spanning {@code text[start[i], start[i] + len[i])}.
     *
     * @param start (n) offset of each symbol in text; symbols are contiguous
     * @param len   (n) length of each symbol in chars; 0 once merged into its left neighbour
     * @param next  (n) index of the next symbol, -1 for the last
     */
    static void merge(String text, int[] start, int[] len, int[] next, int n, PairRank ranks) {
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
        }
        PriorityQueue<Pair> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Double.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offer(text, start, len, i - 1, i, ranks, queue);
        }
        while (!queue.isEmpty()) {
            Pair p = queue.poll();
            int l = p.left, r = p.right;
            // Stale entry: one side was merged into something else since it was queued.
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != p.size) {
                continue;
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                offer(text, start, len, prev[l], l, ranks, queue);
            }
            if (next[l] >= 0) {
                offer(text, start, len, l, next[l], ranks, queue);
            }
        }
    }

    private static void offer(String text, int[] start, int[] len, int left, int right, PairRank ranks,
            PriorityQueue<Pair> queue) {
        double rank = ranks.rank(text, start[left], len[left], len[right]);
        if (!Double.isNaN(rank)) {
            queue.add(new Pair(left, right, rank, len[left] + len[right]));
        }
    }
}
