// Harness: pgg::io::read_dicom (DCMTK: the file format, the transfer syntaxes and their decoders, then
// pgg's modality, MONOCHROME1 and VOI steps) on a fuzzed file. DCMTK is Debian's build, not
// instrumented: libFuzzer's coverage sees pgg's code only, ASan sees DCMTK's heap through malloc and
// free (leaks, double frees, huge allocations), not its out-of-bounds reads.
#include <pgg/core/ops.hpp>
#include <pgg/backend/cpu/eval.hpp>
#include <pgg/io/dicom.hpp>

#include <dcmtk/oflog/oflog.h>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL); // DCMTK's warnings about broken files would flood the log
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = pgg_fuzz::input_file().write(data, size);
    try {
        const pgg::Tensor<std::uint8_t> img = pgg::io::read_dicom(path);
        if (img.rank() != 4 || img.n() != 1 || img.c() != 1 || img.h() < 1 || img.w() < 1) std::abort();
        unsigned sum = 0;
        for (pgg::index_t i = 0, n = img.numel(); i < n; ++i) sum += img.data()[i];
        pgg_fuzz::keep(sum);
    } catch (const pgg::error&) {
    }
    return 0;
}
