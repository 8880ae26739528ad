package dev.warmroute.engine;

import dev.warmroute.engine.tensor.Ops;
import dev.warmroute.engine.tensor.Tensor;

/**
 * The forward pass of one model, in data-flow order, with the activations it reuses from call to call (no
 * allocation per token). Not thread-safe: {@link Model} serialises calls.
 *
 * <p>Rows of the activations are the tokens going through the layers together: a prompt chunk (one segment, one
 * cache) or one decode token per session of {@link Model#forwardBatch} (a segment per session). Only attention and
 * the KV store look at segments; the matrices see rows.
 */
final class ForwardPass {

    private final ModelConfig c;
    private final LlamaWeights weights;
    private final ComputePool pool;
    private final StageProfile profile;

    private final float[] ropeCos; // (contextLength, ropeDim / 2)
    private final float[] ropeSin; // (contextLength, ropeDim / 2)

    // Activations, row t = token t of the rows in flight (at most `chunk` = EngineOptions.prefillChunk rows)
    private final float[] x;      // (chunk, dim) the residual stream
    private final float[] xb;     // (chunk, max(dim, qDim)) a block's normalised input, then its output
    private final float[] xb2;    // (chunk, qDim) attention output, input of wo
    private final float[] q;      // (chunk, heads * headDim)
    private final float[] k;      // (chunk, kvDim)
    private final float[] v;      // (chunk, kvDim)
    private final float[] hb;     // (chunk, hidden) gate, then silu(gate) * up
    private final float[] hb2;    // (chunk, hidden) up
    private final float[] logits; // (vocab) of the last row
    private float[] batchLogits = new float[0]; // (sessions, vocab) for forwardBatch, grown on demand
    private final float[][] scratch;             // (threads, largest panel scratch) dequantised or widened panels
    private final Attention.Scratch[] attention; // (threads)

    // Segments of rows: cache, first row, rows, position of the first row
    private int segments;
    private final KvCache[] segCache; // (chunk)
    private final int[] segRow, segRows, segPos; // (chunk)
    // Attention work units: segment, KV head, first query, queries
    private final int[] unitSeg, unitHead, unitFirst, unitCount; // (kvHeads * (chunk * group / 16 + chunk))

    // The matrix products of each layer, one parallel region each (y = x . w^T)
    private final MatmulJob[][] qkv, attnOut, gateUp, down; // (layers, matrices of the region)
    private final MatmulJob[] classifier;

    ForwardPass(ModelConfig c, LlamaWeights w, EngineOptions o, ComputePool pool, StageProfile profile) {
        this.c = c;
        this.weights = w;
        this.pool = pool;
        this.profile = profile;
        int half = c.ropeDim() / 2;
        ropeCos = new float[c.contextLength() * half];
        ropeSin = new float[c.contextLength() * half];
        for (int i = 0; i < half; i++) {
            float freq = 1.0f / (float) StrictMath.pow(c.ropeTheta(), (2 * i) / (float) c.ropeDim());
            for (int pos = 0; pos < c.contextLength(); pos++) {
                float val = pos * freq;
                ropeCos[pos * half + i] = (float) StrictMath.cos(val);
                ropeSin[pos * half + i] = (float) StrictMath.sin(val);
            }
        }
        int m = o.prefillChunk();
        int qDim = c.heads() * c.headDim();
        x = new float[m * c.dim()];
        xb = new float[m * Math.max(c.dim(), qDim)];
        xb2 = new float[m * qDim];
        q = new float[m * qDim];
        k = new float[m * c.kvDim()];
        v = new float[m * c.kvDim()];
        hb = new float[m * c.hiddenDim()];
        hb2 = new float[m * c.hiddenDim()];
        logits = new float[c.vocabSize()];
        int maxScratch = w.output.scratchFloats();
        for (LlamaWeights.Layer l : w.layers) {
            for (Tensor t : new Tensor[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.down(), l.up()}) {
                maxScratch = Math.max(maxScratch, t.scratchFloats());
            }
        }
        int threads = pool.threads();
        scratch = new float[threads][maxScratch];
        attention = new Attention.Scratch[threads];
        for (int i = 0; i < threads; i++) {
            attention[i] = new Attention.Scratch(c);
        }
        segCache = new KvCache[m];
        segRow = new int[m];
        segRows = new int[m];
        segPos = new int[m];
        int maxUnits = c.kvHeads() * (m * (c.heads() / c.kvHeads()) / Attention.TILE + m);
        unitSeg = new int[maxUnits];
        unitHead = new int[maxUnits];
        unitFirst = new int[maxUnits];
        unitCount = new int[maxUnits];
        int n = c.layers();
        qkv = new MatmulJob[n][];
        attnOut = new MatmulJob[n][];
        gateUp = new MatmulJob[n][];
        down = new MatmulJob[n][];
        for (int i = 0; i < n; i++) {
            LlamaWeights.Layer l = w.layers[i];
            qkv[i] = new MatmulJob[] {new MatmulJob(l.wq(), xb, q), new MatmulJob(l.wk(), xb, k),
                    new MatmulJob(l.wv(), xb, v)};
            attnOut[i] = new MatmulJob[] {new MatmulJob(l.wo(), xb2, xb)};
            gateUp[i] = new MatmulJob[] {new MatmulJob(l.gate(), xb, hb), new MatmulJob(l.up(), xb, hb2)};
            down[i] = new MatmulJob[] {new MatmulJob(l.down(), hb, xb)};
        }
        classifier = new MatmulJob[] {new MatmulJob(w.output, xb, logits)};
    }

    /**
     * Appends tokens[from, to) to the cache, chunk by chunk, and returns the logits of the last one. The cache has
     * the capacity already.
     */
    float[] prefill(KvCache cache, int[] tokens, int from, int to, int chunk) {
        int last = 0;
        for (int i = from; i < to; i += chunk) {
            int m = Math.min(chunk, to - i);
            segments = 1;
            segCache[0] = cache;
            segRow[0] = 0;
            segRows[0] = m;
            layers(tokens, i, m);
            cache.appended(tokens, i, m);
            last = m - 1;
        }
        int dim = c.dim();
        Ops.rmsnorm(xb, 0, x, last * dim, weights.outputNorm, dim, c.normEps());
        profile.start();
        matmuls(1, classifier);
        profile.lap(Model.Stage.CLASSIFIER);
        return logits.clone();
    }

    /** One decode step for sessions: appends tokens[i] to caches[i] (with capacity) and returns their logits. */
    float[][] decodeBatch(KvCache[] caches, int[] tokens) {
        int n = caches.length;
        segments = n;
        for (int i = 0; i < n; i++) {
            segCache[i] = caches[i];
            segRow[i] = i;
            segRows[i] = 1;
        }
        layers(tokens, 0, n);
        for (int i = 0; i < n; i++) {
            caches[i].appended(tokens, i, 1);
        }
        int vocab = c.vocabSize();
        int dim = c.dim();
        if (batchLogits.length < n * vocab) {
            batchLogits = new float[n * vocab];
        }
        for (int t = 0; t < n; t++) {
            Ops.rmsnorm(xb, t * dim, x, t * dim, weights.outputNorm, dim, c.normEps());
        }
        profile.start();
        matmuls(n, new MatmulJob[] {new MatmulJob(weights.output, xb, batchLogits)});
        profile.lap(Model.Stage.CLASSIFIER);
        float[][] out = new float[n][];
        for (int t = 0; t < n; t++) {
            out[t] = java.util.Arrays.copyOfRange(batchLogits, t * vocab, (t + 1) * vocab);
        }
        return out;
    }

    /** Runs tokens[from, from + m) through every layer: row t of the activations is token from + t. */
    private void layers(int[] tokens, int from, int m) {
        profile.start();
        int dim = c.dim();
        int kvDim = c.kvDim();
        int hidden = c.hiddenDim();
        int qDim = c.heads() * c.headDim();
        int group = c.heads() / c.kvHeads();
        int hd = c.headDim();
        for (int t = 0; t < m; t++) {
            weights.tokenEmbedding.row(tokens[from + t], x, t * dim); // x (m, dim)
        }
        // Attention work units: per segment and KV head, tiles of up to 16 queries (tokens x query heads sharing it).
        int units = 0;
        long attentionWork = 0;
        for (int g = 0; g < segments; g++) {
            int pos0 = segCache[g].size();
            segPos[g] = pos0;
            int queries = segRows[g] * group;
            attentionWork += 2L * queries * c.kvHeads() * hd * (pos0 + segRows[g]);
            for (int h = 0; h < c.kvHeads(); h++) {
                for (int first = 0; first < queries; first += Attention.TILE) {
                    unitSeg[units] = g;
                    unitHead[units] = h;
                    unitFirst[units] = first;
                    unitCount[units] = Math.min(Attention.TILE, queries - first);
                    units++;
                }
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer w = weights.layers[l];
            for (int t = 0; t < m; t++) {
                Ops.rmsnorm(xb, t * dim, x, t * dim, w.attnNorm(), dim, c.normEps()); // xb (m, dim)
            }
            profile.lap(Model.Stage.EMBED_NORM_ROPE);
            matmuls(m, qkv[l]); // q (m, qDim), k and v (m, kvDim)
            profile.lap(Model.Stage.QKV);
            for (int g = 0; g < segments; g++) {
                KvCache cache = segCache[g];
                for (int t = segRow[g], end = t + segRows[g]; t < end; t++) {
                    int pos = segPos[g] + t - segRow[g];
                    rope(q, t * qDim, c.heads(), pos);
                    rope(k, t * kvDim, c.kvHeads(), pos);
                    cache.store(l, pos, k, t * kvDim, v, t * kvDim);
                }
            }
            profile.lap(Model.Stage.EMBED_NORM_ROPE);
            int layer = l;
            pool.run(units, attentionWork, (u, thread) -> {
                int g = unitSeg[u];
                Attention.run(segCache[g], layer, unitHead[u], group, hd, q, qDim, segRow[g], segPos[g],
                        unitFirst[u], unitCount[u], xb2, attention[thread]); // xb2 (m, qDim)
            });
            profile.lap(Model.Stage.ATTENTION);
            matmuls(m, attnOut[l]); // xb (m, dim) = wo . xb2
            profile.lap(Model.Stage.ATTN_OUT);
            for (int t = 0; t < m; t++) {
                Ops.add(x, t * dim, xb, t * dim, dim);
                Ops.rmsnorm(xb, t * dim, x, t * dim, w.ffnNorm(), dim, c.normEps());
            }
            profile.lap(Model.Stage.EMBED_NORM_ROPE);
            matmuls(m, gateUp[l]); // hb, hb2 (m, hidden)
            profile.lap(Model.Stage.GATE_UP);
            for (int t = 0; t < m; t++) {
                Ops.siluMul(hb, t * hidden, hb2, t * hidden, hidden);
            }
            profile.lap(Model.Stage.SILU);
            matmuls(m, down[l]); // xb (m, dim) = w2 . hb
            profile.lap(Model.Stage.DOWN);
            for (int t = 0; t < m; t++) {
                Ops.add(x, t * dim, xb, t * dim, dim);
            }
        }
    }

    /** RoPE on adjacent pairs (as GGUF stores llama weights): (v[2i], v[2i+1]) rotated by pos * theta^(-2i/d). */
    private void rope(float[] vec, int off, int heads, int pos) {
        int hd = c.headDim();
        int half = c.ropeDim() / 2;
        int base = pos * half;
        for (int h = 0; h < heads; h++) {
            int o = off + h * hd;
            for (int i = 0; i < half; i++) {
                float fcr = ropeCos[base + i];
                float fci = ropeSin[base + i];
                float v0 = vec[o + 2 * i];
                float v1 = vec[o + 2 * i + 1];
                vec[o + 2 * i] = v0 * fcr - v1 * fci;
                vec[o + 2 * i + 1] = v0 * fci + v1 * fcr;
            }
        }
    }

    /**
     * One parallel region over the panels of several matrices (same input tokens): chunks of panels, claimed by
     * whichever thread is free.
     */
    private void matmuls(int tokens, MatmulJob[] jobs) {
        int total = 0;
        long work = 0;
        for (MatmulJob j : jobs) {
            total += j.w().panels();
            work += (long) tokens * j.w().rows() * j.w().cols();
        }
        // About 8 chunks per thread: enough to rebalance around a descheduled thread, few enough that claiming
        // (a contended atomic) stays cheap next to the work; even, so the two-panel decode kernels pair up.
        int per = Math.max(tokens < 4 ? 2 : 4, (total / (8 * pool.threads())) & ~1);
        int all = total;
        pool.run((total + per - 1) / per, work, (chunk, thread) -> {
            int a = chunk * per;
            int b = Math.min(all, a + per);
            int base = 0;
            for (MatmulJob j : jobs) {
                int p = j.w().panels();
                int p0 = Math.max(a - base, 0);
                int p1 = Math.min(b - base, p);
                if (p0 < p1) {
                    j.w().matmul(j.x(), 0, j.w().cols(), tokens, j.y(), 0, j.w().rows(), p0, p1, scratch[thread]);
                }
                base += p;
            }
        });
    }

    /** y (tokens, w.rows) = x (tokens, w.cols) . w^T */
    record MatmulJob(Tensor w, float[] x, float[] y) {}
}
