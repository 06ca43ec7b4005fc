// ops.cu: element-wise and per-row ops on float activations; see gpu/KERNELS.md. Each mirrors the
// default method of the Java Kernels SPI (runtime/src/main/java/dev/panllama/backend/Kernels.java):
// the same float expressions in the same order (multiplies and adds kept apart where Java rounds
// twice), and ggml's double-precision sums for rmsnorm.
//
// No #include: NVRTC compiles this file as shipped.

#define OPS_THREADS 256   // rmsnorm and the element-wise kernels
#define ROPE_THREADS 128
#define OPS_WARPS (OPS_THREADS / 32)

__device__ __forceinline__ double warp_sum_d(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Block-wide sum of one double per thread (block OPS_THREADS); every thread gets the total.
__device__ __forceinline__ double block_sum_d(double v) {
    __shared__ double part[OPS_WARPS];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum_d(v);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = lane < OPS_WARPS ? part[lane] : 0.0;
    v = warp_sum_d(v);
    __syncthreads();  // part may be reused by a later call
    return v;
}

// out = x * (1 / sqrt(mean(x^2) + eps)) * w for the row blockIdx.x of dim values; out may equal x.
// As ggml: squares summed in double, the mean rounded to float before eps is added.
extern "C" __global__ void __launch_bounds__(OPS_THREADS)
rmsnorm_f32(const float* x, const float* __restrict__ w, float* out, int dim, float eps) {
    const float* xr = x + (long long) blockIdx.x * dim;
    float* orow = out + (long long) blockIdx.x * dim;
    double sum = 0.0;
    for (int i = threadIdx.x; i < dim; i += OPS_THREADS) {
        const double v = xr[i];
        sum += v * v;
    }
    sum = block_sum_d(sum);  // ends with a barrier: every read of x is done before out is written
    const float scale = (float) (1.0 / sqrt((double) ((float) (sum / dim) + eps)));
    for (int i = threadIdx.x; i < dim; i += OPS_THREADS) orow[i] = xr[i] * scale * w[i];
}

// Rotates the first nRot dims of head (blockIdx.x % heads) of token (blockIdx.x / heads):
// pair p uses cs[t*nRot + 2p] (cos) and cs[t*nRot + 2p + 1] (sin); normal mode rotates
// (x[2p], x[2p+1]), neox mode (x[p], x[p + nRot/2]).
extern "C" __global__ void __launch_bounds__(ROPE_THREADS)
rope_f32(float* __restrict__ x, const float* __restrict__ cs, int heads, int headDim, int nRot, int neox) {
    const int t = blockIdx.x / heads;
    float* __restrict__ xh = x + (long long) blockIdx.x * headDim;
    const float* __restrict__ c = cs + (long long) t * nRot;
    const int half = nRot >> 1;
    for (int p = threadIdx.x; p < half; p += ROPE_THREADS) {
        const float cv = c[2 * p], sv = c[2 * p + 1];
        const int a = neox ? p : 2 * p;
        const int b = neox ? p + half : 2 * p + 1;
        const float x0 = xh[a], x1 = xh[b];
        xh[a] = __fsub_rn(__fmul_rn(x0, cv), __fmul_rn(x1, sv));
        xh[b] = __fadd_rn(__fmul_rn(x0, sv), __fmul_rn(x1, cv));
    }
}

__device__ __forceinline__ int elem_index() {
    return (int) (blockIdx.x * OPS_THREADS + threadIdx.x);
}

// gate = silu(gate) * up = gate / (1 + exp(-gate)) * up.
extern "C" __global__ void __launch_bounds__(OPS_THREADS)
swiglu_f32(float* __restrict__ gate, const float* __restrict__ up, int n) {
    const int i = elem_index();
    if (i < n) {
        const float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

extern "C" __global__ void __launch_bounds__(OPS_THREADS)
add_f32(float* __restrict__ x, const float* __restrict__ y, int n) {
    const int i = elem_index();
    if (i < n) x[i] += y[i];
}

// x[i] += b[i % width] for the n = rows * width values of x: a bias added to every token's row.
extern "C" __global__ void __launch_bounds__(OPS_THREADS)
add_rows_f32(float* __restrict__ x, const float* __restrict__ b, int width, int n) {
    const int i = elem_index();
    if (i < n) x[i] += b[i % width];
}

// Row blockIdx.x of a row copy: dst row dstRows[r] (r when dstRows is null) = src row srcRows[r] (r when
// null), width floats each. Gathers mul_mat_id's inputs in expert order and scatters its results back.
extern "C" __global__ void __launch_bounds__(OPS_THREADS)
copy_rows_f32(const float* __restrict__ src, const int* __restrict__ srcRows, float* __restrict__ dst,
              const int* __restrict__ dstRows, int width) {
    const int r = blockIdx.x;
    const float* __restrict__ s = src + (long long) (srcRows ? srcRows[r] : r) * width;
    float* __restrict__ d = dst + (long long) (dstRows ? dstRows[r] : r) * width;
    for (int i = threadIdx.x; i < width; i += OPS_THREADS) d[i] = s[i];
}

// Token blockIdx.x of a routed feed-forward's weighted sum: out[t][i] = sum over slots j, in order, of
// w[t*used + j] * y[t*used + j][i], each product rounded before it is added, as the Java MoeCombine.
extern "C" __global__ void __launch_bounds__(OPS_THREADS)
moe_combine_f32(const float* __restrict__ y, const float* __restrict__ w, float* __restrict__ out, int used, int dim) {
    const long long t = blockIdx.x;
    const float* __restrict__ wt = w + t * used;
    for (int i = threadIdx.x; i < dim; i += OPS_THREADS) {
        float acc = __fmul_rn(wt[0], y[(t * used) * dim + i]);
        for (int j = 1; j < used; j++) acc = __fadd_rn(acc, __fmul_rn(wt[j], y[(t * used + j) * dim + i]));
        out[t * dim + i] = acc;
    }
}
