#pragma once
// DICOM images (CR, DX and other single-frame grayscale images) through DCMTK, an optional
// dependency: link pgg::dicom (defined when CMake finds DCMTK) and include this header.
//
// The result is an 8-bit image (1, 1, H, W) as a radiologist would see it:
// - the modality transform (Rescale Slope / Intercept) is applied;
// - MONOCHROME1 (high values dark) is inverted, so that white is always dense tissue;
// - to 8 bits by the file's first VOI window (Window Center / Width) when it has one; otherwise stored
//   values of at most 8 bits are kept as they are, and deeper ones are stretched from their minimum to
//   their maximum;
// - transfer syntaxes: uncompressed (implicit/explicit, little/big endian) and JPEG (baseline,
//   extended, lossless), through DCMTK's decoders.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimgle/dipixel.h>
#include <dcmtk/dcmjpeg/djdecode.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../core/ops.hpp"

namespace pgg::io {

namespace detail {
// DCMTK's JPEG decoders, registered once per process.
inline void register_dicom_codecs() {
    static const bool done = [] {
        DJDecoderRegistration::registerCodecs();
        return true;
    }();
    (void)done;
}
} // namespace detail

namespace detail {
// DCMTK 3.6.7 (Debian 12) walks the markers of a JPEG frame's first fragment for its bit depth before
// decoding, and loops forever on a TEM marker (FF 01) met before the frame header: found by
// fuzz/fuzz_dicom.cpp. The same walk here refuses such a file first.
inline void check_jpeg_markers(const std::string& path, DcmDataset& ds) {
    DcmElement* e = nullptr;
    if (ds.findAndGetElement(DCM_PixelData, e).bad() || !e) return;
    auto* pixels = dynamic_cast<DcmPixelData*>(e);
    DcmPixelSequence* seq = nullptr;
    if (!pixels || pixels->getEncapsulatedRepresentation(ds.getOriginalXfer(), nullptr, seq).bad() || !seq) return;
    DcmPixelItem* first = nullptr; // item 0 is the offset table
    Uint8* p = nullptr;
    if (seq->getItem(first, 1).bad() || !first || first->getUint8Array(p).bad() || !p) return;
    const Uint32 n = first->getLength();
    for (Uint32 at = 0; at + 4 < n;) {
        if (p[at] != 0xFF) return;     // not a marker: DCMTK stops with an error
        const Uint8 m = p[at + 1];
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) return; // the frame header: done
        if (m == 0x01) throw error(path + ": corrupt JPEG pixel data (a TEM marker before the frame header)");
        if (m == 0xFF) at += 1;                                                                  // fill byte
        else if ((m >= 0xD0 && m <= 0xD9) || (m > 0x02 && m <= 0xBF)) at += 2;                   // no length
        else if (m >= 0xC4) at += 2 + ((Uint32(p[at + 2]) << 8) | p[at + 3]);                   // a segment
        else return;                                                                             // invalid: DCMTK's error
    }
}

// The modality-transformed pixel values DCMTK decoded, as doubles.
inline std::vector<double> modality_values(const DiPixel& px) {
    std::vector<double> v(px.getCount());
    auto copy = [&](const auto* p) { std::copy(p, p + v.size(), v.begin()); };
    switch (px.getRepresentation()) {
    case EPR_Uint8: copy(static_cast<const Uint8*>(px.getData())); break;
    case EPR_Sint8: copy(static_cast<const Sint8*>(px.getData())); break;
    case EPR_Uint16: copy(static_cast<const Uint16*>(px.getData())); break;
    case EPR_Sint16: copy(static_cast<const Sint16*>(px.getData())); break;
    case EPR_Uint32: copy(static_cast<const Uint32*>(px.getData())); break;
    case EPR_Sint32: copy(static_cast<const Sint32*>(px.getData())); break;
    }
    return v;
}
} // namespace detail

inline Tensor<std::uint8_t> read_dicom(const std::string& path) {
    detail::register_dicom_codecs();
    DcmFileFormat file;
    const OFCondition st = file.loadFile(path.c_str());
    if (st.bad()) throw error(path + ": not a readable DICOM file (" + std::string(st.text()) + ")");
    DcmDataset* ds = file.getDataset();
    if (!ds->tagExistsWithValue(DCM_PixelData)) throw error(path + ": DICOM file without pixel data");
    OFString photometric;
    ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    if (photometric != "MONOCHROME1" && photometric != "MONOCHROME2")
        throw error(path + ": photometric interpretation '" + std::string(photometric.c_str()) +
                    "' is not supported (grayscale MONOCHROME1/2 only)");
    Uint16 bits_stored = 0;
    ds->findAndGetUint16(DCM_BitsStored, bits_stored);
    Float64 center = 0, width = 0;
    const bool windowed = ds->findAndGetFloat64(DCM_WindowCenter, center).good() &&
                          ds->findAndGetFloat64(DCM_WindowWidth, width).good() && width >= 1;
    // DCMTK allocates Rows x Columns pixels before it finds the data missing: a header can claim 4 billion
    // (found by fuzz/fuzz_dicom.cpp). The file must hold them: as stored, or as JPEG packs them at most.
    Uint16 rows = 0, columns = 0, samples = 1, bits_allocated = 8;
    ds->findAndGetUint16(DCM_Rows, rows), ds->findAndGetUint16(DCM_Columns, columns);
    ds->findAndGetUint16(DCM_SamplesPerPixel, samples), ds->findAndGetUint16(DCM_BitsAllocated, bits_allocated);
    // DICOM allows 1 or a multiple of 8; DCMTK sizes a JPEG frame's buffer by it before decoding (65528
    // bits for 22616 x 16 pixels: 3 GB for a 1-KB file, found by fuzz/fuzz_dicom.cpp).
    if (bits_allocated != 1 && bits_allocated != 8 && bits_allocated != 16 && bits_allocated != 32)
        throw error(path + ": Bits Allocated " + std::to_string(bits_allocated) + " is not supported (1, 8, 16 or 32)");
    const bool encapsulated = DcmXfer(ds->getOriginalXfer()).isEncapsulated();
    struct stat info {};
    const double file_bytes = ::stat(path.c_str(), &info) == 0 ? double(info.st_size) : 0.0;
    const double values = double(rows) * double(columns) * std::max<Uint16>(samples, 1); // samples: DCMTK allocates them too
    const double need = encapsulated ? values / 1024 : values * std::max<Uint16>(bits_allocated, 1) / 8;
    if (need > file_bytes + (encapsulated ? 4 : 0))
        throw error(path + ": " + std::to_string(rows) + " x " + std::to_string(columns) + " pixels" +
                    (samples > 1 ? " x " + std::to_string(samples) + " samples" : "") +
                    (encapsulated ? " (JPEG)" : " of " + std::to_string(bits_allocated) + " bits") + " cannot be stored in its " +
                    std::to_string(std::uint64_t(file_bytes)) + " bytes (corrupt or truncated)");
    if (encapsulated) detail::check_jpeg_markers(path, *ds);
    DicomImage img(&file, ds->getOriginalXfer(), CIF_MayDetachPixelData, 0, 1);
    if (img.getStatus() != EIS_Normal)
        throw error(path + ": cannot decode the image (" + std::string(DicomImage::getString(img.getStatus())) + ")");
    const DiPixel* inter = img.getInterData();
    const index_t h = index_t(img.getHeight()), w = index_t(img.getWidth());
    if (!inter || h == 0 || w == 0 || index_t(inter->getCount()) < h * w) throw error(path + ": empty or undecodable image");
    const std::vector<double> v = detail::modality_values(*inter);
    // the VOI step, done here rather than by DCMTK's renderer, whose rounding is off by one for some values
    const auto range = std::minmax_element(v.begin(), v.begin() + h * w); // (not a structured binding: the lambda
    const auto lo = range.first, hi = range.second;                         // below captures it, which clang < 16 refuses)
    const bool as_stored = !windowed && bits_stored <= 8 && *lo >= 0 && *hi <= 255;
    const double span = std::max(*hi - *lo, 1e-12);
    auto voi = [&](double x) {
        if (windowed) return std::clamp((x - (center - 0.5)) / (width - 1) + 0.5, 0.0, 1.0) * 255; // DICOM's LINEAR function
        if (as_stored) return x;
        return (x - *lo) / span * 255;
    };
    const bool invert = photometric == "MONOCHROME1";
    Tensor<std::uint8_t> out({1, 1, h, w});
    for (index_t i = 0; i < h * w; ++i) {
        const double y = std::round(voi(v[std::size_t(i)]));
        out.data()[i] = std::uint8_t(invert ? 255 - y : y);
    }
    return out;
}

} // namespace pgg::io
