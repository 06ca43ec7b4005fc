// attention.cu: causal grouped-query attention over the device copy of the KV cache; see
// gpu/KERNELS.md and the Java reference, runtime/src/main/java/dev/panllama/backend/AttentionKernel.java.
//
// One block of 128 threads per (head h = blockIdx.x, token t = blockIdx.y). The query, rounded to
// the key cache's type as the CPU does, sits in shared memory. Positions [0, pos0 + t] are visited in
// tiles of 32:
//  1. scores: warp w computes q.k for positions w, w + 4, ..., w + 28 of the tile at once (its lanes
//     stride over the head's elements, so a warp reads consecutive bytes of each key row), reduces
//     each with shuffles and scales it;
//  2. warp 0 updates the online softmax: running max m and sum l, p_i = exp(s_i - m), and the factor
//     exp(m_old - m) by which the accumulator is rescaled;
//  3. values: thread i owns output elements i, i + 128, ... (up to 5, for headDimV <= 576) and adds
//     p_i * v_i over the tile's positions (consecutive threads read consecutive elements of a row).
// The result is the accumulator divided by l. Cache rows are F32, F16, BF16, Q8_0 or Q4_0 (ggml type
// ids 0, 1, 30, 8, 2), quantized ones decoded per 32-element block as ggml (and the Java codecs) do.
//
// One #include, halves.cuh: NVRTC is handed it by name.

#define ATT_THREADS 128
#define ATT_WARPS (ATT_THREADS / 32)
#define ATT_TILE 32                               // positions per tile
#define ATT_PER_WARP (ATT_TILE / ATT_WARPS)       // key rows each warp scores per tile
#define ATT_MAX_DIM 576                           // headDimK, headDimV limit (DeepSeek MLA latent rows)
#define ATT_OUT_PER_THREAD ((ATT_MAX_DIM + ATT_THREADS - 1) / ATT_THREADS)

#define GGML_F32 0
#define GGML_F16 1
#define GGML_Q4_0 2
#define GGML_Q8_0 8
#define GGML_BF16 30

#include "halves.cuh"   // F16 <-> F32

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// The query element as the key cache's dot product sees it (AttentionKernel.roundToKeyType):
// rounded to F16 for an F16 cache, to BF16 (nearest even, NaNs kept quiet) for a BF16 cache.
__device__ __forceinline__ float round_query(float x, int kType) {
    if (kType == GGML_F16) return h2f(f2h(x));
    if (kType == GGML_BF16) {
        unsigned u = __float_as_uint(x);
        if ((u & 0x7fffffffu) > 0x7f800000u) return __uint_as_float(((u >> 16) | 64u) << 16);
        return __uint_as_float(((u + (0x7fffu + ((u >> 16) & 1u))) >> 16) << 16);
    }
    return x;
}

// Bytes of one head's segment of a cache row (the row holds nHeadKv of them back to back).
__device__ __forceinline__ long long head_bytes(int type, int dim) {
    switch (type) {
        case GGML_F16:
        case GGML_BF16: return 2LL * dim;
        case GGML_Q8_0: return (long long) (dim / 32) * 34;
        case GGML_Q4_0: return (long long) (dim / 32) * 18;
        default: return 4LL * dim;
    }
}

// Element i of a head segment starting at r, in cache type T.
//  Q8_0 block (34 bytes): half d; i8 qs[32]; value qs[j] * d.
//  Q4_0 block (18 bytes): half d; u8 qs[16]; element j < 16 is the low nibble of qs[j], j >= 16 the
//  high nibble of qs[j - 16]; value (nibble - 8) * d.
template <int T>
__device__ __forceinline__ float kv_at(const unsigned char* __restrict__ r, int i) {
    if (T == GGML_F32) return ((const float*) r)[i];
    if (T == GGML_F16) return h2f(((const unsigned short*) r)[i]);
    if (T == GGML_BF16) return __uint_as_float((unsigned) ((const unsigned short*) r)[i] << 16);
    if (T == GGML_Q8_0) {
        const unsigned char* __restrict__ b = r + (i >> 5) * 34;
        return (float) (signed char) b[2 + (i & 31)] * h2f(*(const unsigned short*) b);
    }
    // Q4_0
    const unsigned char* __restrict__ b = r + (i >> 5) * 18;
    const int j = i & 31;
    const int q = b[2 + (j & 15)];
    return (float) (((j < 16) ? (q & 15) : (q >> 4)) - 8) * h2f(*(const unsigned short*) b);
}

// Step 1: sc[i] = scale * (q . key of tile position i) for i < cnt. kt: the head segment of the
// tile's first position.
template <int T>
__device__ __forceinline__ void tile_scores(const unsigned char* __restrict__ kt, long long kRowBytes,
                                            const float* qs, int dimK, int cnt, float scale, float* sc) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float part[ATT_PER_WARP];
#pragma unroll
    for (int r = 0; r < ATT_PER_WARP; r++) part[r] = 0.f;
    for (int e = lane; e < dimK; e += 32) {
        const float qv = qs[e];
#pragma unroll
        for (int r = 0; r < ATT_PER_WARP; r++) {
            const int i = warp + ATT_WARPS * r;
            if (i < cnt) part[r] += qv * kv_at<T>(kt + i * kRowBytes, e);
        }
    }
#pragma unroll
    for (int r = 0; r < ATT_PER_WARP; r++) {
        const int i = warp + ATT_WARPS * r;
        if (i < cnt) {  // the same for the whole warp
            const float s = warp_sum(part[r]);
            if (lane == 0) sc[i] = s * scale;
        }
    }
}

// Step 3: acc[j] += p[i] * value_i[tid + 128 j] over the tile's cnt positions. vt: the head segment
// of the tile's first position.
template <int T>
__device__ __forceinline__ void tile_values(const unsigned char* __restrict__ vt, long long vRowBytes,
                                            const float* p, int cnt, int dimV, float acc[ATT_OUT_PER_THREAD]) {
#pragma unroll 4
    for (int i = 0; i < cnt; i++) {
        const float pi = p[i];
        const unsigned char* __restrict__ vr = vt + i * vRowBytes;
#pragma unroll
        for (int j = 0; j < ATT_OUT_PER_THREAD; j++) {
            const int e = threadIdx.x + ATT_THREADS * j;
            if (e < dimV) acc[j] += pi * kv_at<T>(vr, e);
        }
    }
}

// At least 4 blocks per SM: with that register budget ptxas keeps the unrolled loops free of spills.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, 4)
attention_f32(const float* __restrict__ q, float* __restrict__ out,
              const unsigned char* __restrict__ kc, const unsigned char* __restrict__ vc,
              long long kRowBytes, long long vRowBytes, int kType, int vType, int pos0, int tokens,
              int nHead, int nHeadKv, int headDimK, int headDimV, float scale) {
    __shared__ float qs[ATT_MAX_DIM];
    __shared__ float sc[ATT_TILE];   // scores, then probabilities, of the current tile
    __shared__ float shAlpha, shSum;

    const int h = blockIdx.x, t = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int kvh = h / (nHead / nHeadKv);

    const float* __restrict__ qp = q + ((long long) t * nHead + h) * headDimK;
    for (int i = tid; i < headDimK; i += ATT_THREADS) qs[i] = round_query(qp[i], kType);
    __syncthreads();

    const unsigned char* __restrict__ kh = kc + kvh * head_bytes(kType, headDimK);
    const unsigned char* __restrict__ vh = vc + kvh * head_bytes(vType, headDimV);
    const int n = pos0 + t + 1;  // positions attended to

    float m = __int_as_float(0xff800000);  // running max (-inf); kept by warp 0
    float l = 0.f;                         // running sum of exp(s - m); kept by warp 0
    float acc[ATT_OUT_PER_THREAD];
#pragma unroll
    for (int j = 0; j < ATT_OUT_PER_THREAD; j++) acc[j] = 0.f;

    for (int p0 = 0; p0 < n; p0 += ATT_TILE) {
        const int cnt = n - p0 < ATT_TILE ? n - p0 : ATT_TILE;
        const unsigned char* __restrict__ kt = kh + p0 * kRowBytes;
        switch (kType) {
            case GGML_F16: tile_scores<GGML_F16>(kt, kRowBytes, qs, headDimK, cnt, scale, sc); break;
            case GGML_BF16: tile_scores<GGML_BF16>(kt, kRowBytes, qs, headDimK, cnt, scale, sc); break;
            case GGML_Q8_0: tile_scores<GGML_Q8_0>(kt, kRowBytes, qs, headDimK, cnt, scale, sc); break;
            case GGML_Q4_0: tile_scores<GGML_Q4_0>(kt, kRowBytes, qs, headDimK, cnt, scale, sc); break;
            default: tile_scores<GGML_F32>(kt, kRowBytes, qs, headDimK, cnt, scale, sc); break;
        }
        __syncthreads();

        if (warp == 0) {
            const float s = lane < cnt ? sc[lane] : __int_as_float(0xff800000);
            const float mNew = fmaxf(m, warp_max(s));
            const float pl = lane < cnt ? expf(s - mNew) : 0.f;
            const float alpha = expf(m - mNew);  // 0 on the first tile (m = -inf)
            l = l * alpha + warp_sum(pl);
            m = mNew;
            sc[lane] = pl;
            if (lane == 0) shAlpha = alpha;
        }
        __syncthreads();

        const float alpha = shAlpha;
#pragma unroll
        for (int j = 0; j < ATT_OUT_PER_THREAD; j++) acc[j] *= alpha;
        const unsigned char* __restrict__ vt = vh + p0 * vRowBytes;
        switch (vType) {
            case GGML_F16: tile_values<GGML_F16>(vt, vRowBytes, sc, cnt, headDimV, acc); break;
            case GGML_BF16: tile_values<GGML_BF16>(vt, vRowBytes, sc, cnt, headDimV, acc); break;
            case GGML_Q8_0: tile_values<GGML_Q8_0>(vt, vRowBytes, sc, cnt, headDimV, acc); break;
            case GGML_Q4_0: tile_values<GGML_Q4_0>(vt, vRowBytes, sc, cnt, headDimV, acc); break;
            default: tile_values<GGML_F32>(vt, vRowBytes, sc, cnt, headDimV, acc); break;
        }
        __syncthreads();  // sc is rewritten by the next tile
    }

    if (tid == 0) shSum = l;
    __syncthreads();
    const float sum = shSum;
    float* __restrict__ o = out + ((long long) t * nHead + h) * headDimV;
#pragma unroll
    for (int j = 0; j < ATT_OUT_PER_THREAD; j++) {
        const int e = tid + ATT_THREADS * j;
        if (e < headDimV) o[e] = acc[j] / sum;
    }
}
