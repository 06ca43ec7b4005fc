// dequant.cu: weight rows to F16 for cuBLAS (the prompt path); see gpu/KERNELS.md.
//
// dq_<type>_f16(w, rowBytes, out, k, rows): one block of 256 threads per row, the row being
// blockIdx.x + 65535 * blockIdx.y (grid.y splits more than 65535 rows). Thread i decodes units
// i, i + 256, ... of the row (16 weights each, 4 runs of 4 consecutive elements) with the decoders
// matvec.cu uses, identical to the Java codecs' math, and stores each run of 4 halves as one 8-byte
// word. f32_to_f16 converts activations. Rounding to F16 is round-to-nearest-even, as Java's
// Float.floatToFloat16.
//
// Two #includes, halves.cuh and blocks.cuh: NVRTC is handed them by name.

#define DQ_THREADS 256
#define DQ_ROWS_PER_GRID_X 65535

#include "halves.cuh"   // F16 <-> F32
#include "blocks.cuh"   // the block decoders, shared with matvec.cu

__device__ __forceinline__ long long dq_row() {
    return (long long) blockIdx.x + (long long) blockIdx.y * DQ_ROWS_PER_GRID_X;
}

// Four halves at p; oal: p is 8-byte aligned.
__device__ __forceinline__ void st4h(unsigned short* __restrict__ p, bool oal, unsigned lo, unsigned hi) {
    if (oal) {
        U2 t;
        t.a = lo; t.b = hi;
        *(U2*) p = t;
    } else {
        p[0] = (unsigned short) lo; p[1] = (unsigned short) (lo >> 16);
        p[2] = (unsigned short) hi; p[3] = (unsigned short) (hi >> 16);
    }
}

__device__ __forceinline__ void st4f(unsigned short* __restrict__ p, bool oal, const float* v) {
    st4h(p, oal, (unsigned) f2h(v[0]) | ((unsigned) f2h(v[1]) << 16),
                 (unsigned) f2h(v[2]) | ((unsigned) f2h(v[3]) << 16));
}

template <class D>
__device__ __forceinline__ void dq_quant(const unsigned char* __restrict__ w, long long rowBytes,
                                         unsigned short* __restrict__ out, int k, int rows) {
    const long long row = dq_row();
    if (row >= rows) return;
    const unsigned char* __restrict__ wr = w + row * rowBytes;
    unsigned short* __restrict__ o = out + row * k;
    const bool al = (((unsigned long long) w | (unsigned long long) rowBytes) & 3) == 0;
    const bool oal = ((unsigned long long) out & 7) == 0;  // k is a multiple of 32: every row is too
    const int nUnits = (k / D::QK) * D::UNITS;
    for (int u = threadIdx.x; u < nUnits; u += DQ_THREADS) {
        const int blk = u / D::UNITS, sub = u % D::UNITS;
        float v[16];
        int pos[4];
        D::decode(wr + (long long) blk * D::BYTES, sub, al, v, pos);
        unsigned short* __restrict__ ob = o + blk * D::QK;
#pragma unroll
        for (int g = 0; g < 4; g++) st4f(ob + pos[g], oal, v + 4 * g);
    }
}

// F32 / F16 / BF16: units of 4 consecutive elements, then a tail of k % 4 elements one at a time.
// F16 rows are copied bit for bit.
template <int E>
__device__ __forceinline__ void dq_float(const unsigned char* __restrict__ w, long long rowBytes,
                                         unsigned short* __restrict__ out, int k, int rows) {
    constexpr int ES = E == 0 ? 4 : 2;
    const long long row = dq_row();
    if (row >= rows) return;
    const unsigned char* __restrict__ wr = w + row * rowBytes;
    unsigned short* __restrict__ o = out + row * k;
    const unsigned long long base = (unsigned long long) w | (unsigned long long) rowBytes;
    const bool al = (base & (ES - 1)) == 0;
    const bool wal = (base & (4 * ES - 1)) == 0;
    const bool oal = ((unsigned long long) out & 7) == 0 && (k & 3) == 0;
    const int nUnits = k >> 2;
    for (int u = threadIdx.x; u < nUnits; u += DQ_THREADS) {
        const unsigned char* __restrict__ p = wr + (long long) u * 4 * ES;
        if (E == 1) {
            unsigned lo, hi;
            if (wal) {
                U2 t = *(const U2*) p;
                lo = t.a; hi = t.b;
            } else {
                lo = ld32_2(p, al);
                hi = ld32_2(p + 4, al);
            }
            st4h(o + 4 * u, oal, lo, hi);
        } else {
            float v[4];
            float4_at<E>(p, wal, al, v);
            st4f(o + 4 * u, oal, v);
        }
    }
    const int j = 4 * nUnits + threadIdx.x;
    if (j < k) {
        const unsigned char* __restrict__ p = wr + (long long) j * ES;
        o[j] = E == 1 ? (unsigned short) ld16(p, al) : f2h(float_at<E>(p, al));
    }
}

#define DQ_ARGS const unsigned char* __restrict__ w, long long rowBytes, unsigned short* __restrict__ out, int k, int rows

extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_f32_f16(DQ_ARGS) { dq_float<0>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_f16_f16(DQ_ARGS) { dq_float<1>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_bf16_f16(DQ_ARGS) { dq_float<2>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_q8_0_f16(DQ_ARGS) { dq_quant<Q8_0>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_q4_0_f16(DQ_ARGS) { dq_quant<Q4_0>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_q4_k_f16(DQ_ARGS) { dq_quant<Q4_K>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_q5_k_f16(DQ_ARGS) { dq_quant<Q5_K>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_q6_k_f16(DQ_ARGS) { dq_quant<Q6_K>(w, rowBytes, out, k, rows); }
extern "C" __global__ void __launch_bounds__(DQ_THREADS) dq_iq4_xs_f16(DQ_ARGS) { dq_quant<IQ4_XS>(w, rowBytes, out, k, rows); }

// out[i] = half(x[i]); grid ceil(n / 256), block 256.
extern "C" __global__ void __launch_bounds__(DQ_THREADS) f32_to_f16(const float* __restrict__ x, unsigned short* __restrict__ out, int n) {
    const long long i = (long long) blockIdx.x * DQ_THREADS + threadIdx.x;
    if (i < n) out[i] = f2h(x[i]);
}
