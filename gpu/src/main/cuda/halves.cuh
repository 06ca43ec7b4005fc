// halves.cuh: F16 <-> F32, as the PTX conversions do them (cvt.f32.f16, cvt.rn.f16.f32). Included by
// every module that reads or writes F16 (attention, dequant, matvec), before blocks.cuh; nvcc finds it
// beside them, NVRTC is handed it by name (CudaModules), and the emulator test's g++ by -I. No include
// guard: each .cu includes it once, and the emulator compiles each .cu in a namespace of its own.

// PANLLAMA_HOST_EMULATION: compiled on the CPU by KernelEmulationTest (gpu/src/test/cuda), whose
// shim provides the conversion; nvcc and NVRTC never define it and take the inline PTX.
__device__ __forceinline__ float h2f(unsigned short h) {
#ifdef PANLLAMA_HOST_EMULATION
    return panllama_emu_h2f(h);
#else
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
#endif
}

__device__ __forceinline__ unsigned short f2h(float f) {
#ifdef PANLLAMA_HOST_EMULATION
    return panllama_emu_f2h(f);  // round to nearest even, as cvt.rn
#else
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
#endif
}
