/* Test-only shim for Wine 8 (Debian 12), which lacks bcryptprimitives.dll.
 * Rust's standard library on Windows draws randomness from its ProcessPrng
 * (present on every Windows 10+); this forwards it to RtlGenRandom so stint.exe
 * can run under that Wine. Never shipped: the MSI test copies it into a
 * throwaway Wine prefix. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
