// DICOM input (pgg/io/dicom.hpp): files made here with DCMTK for each case the RSNA data and other
// CR/DX files bring: MONOCHROME1 and 2, 8 to 16 bits, rescale slope/intercept, VOI windows,
// uncompressed and JPEG baseline; and the errors for files that are not images.
#include <pgg/io/dicom.hpp>

#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrploss.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "reference.hpp"

using namespace pgg;

namespace {

struct DicomSpec {
    int w = 8, h = 8, bits_allocated = 8, bits_stored = 8;
    std::string photometric = "MONOCHROME2";
    std::string slope, intercept, center, width;
    bool jpeg = false, pixel_data = true;
};

void write_dicom(const std::string& path, const DicomSpec& s, const std::vector<Uint16>& px) {
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    char uid[100];
    ds->putAndInsertString(DCM_SOPClassUID, UID_ComputedRadiographyImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
    ds->putAndInsertString(DCM_Modality, "CR");
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, s.photometric.c_str());
    ds->putAndInsertUint16(DCM_Rows, Uint16(s.h));
    ds->putAndInsertUint16(DCM_Columns, Uint16(s.w));
    ds->putAndInsertUint16(DCM_BitsAllocated, Uint16(s.bits_allocated));
    ds->putAndInsertUint16(DCM_BitsStored, Uint16(s.bits_stored));
    ds->putAndInsertUint16(DCM_HighBit, Uint16(s.bits_stored - 1));
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    if (!s.slope.empty()) ds->putAndInsertString(DCM_RescaleSlope, s.slope.c_str());
    if (!s.intercept.empty()) ds->putAndInsertString(DCM_RescaleIntercept, s.intercept.c_str());
    if (!s.center.empty()) ds->putAndInsertString(DCM_WindowCenter, s.center.c_str());
    if (!s.width.empty()) ds->putAndInsertString(DCM_WindowWidth, s.width.c_str());
    if (s.pixel_data) {
        if (s.bits_allocated == 8) {
            std::vector<Uint8> bytes(px.begin(), px.end());
            ds->putAndInsertUint8Array(DCM_PixelData, bytes.data(), unsigned(bytes.size()));
        } else {
            ds->putAndInsertUint16Array(DCM_PixelData, px.data(), unsigned(px.size()));
        }
    }
    E_TransferSyntax xfer = EXS_LittleEndianExplicit;
    if (s.jpeg) {
        static const bool registered = [] {
            DJEncoderRegistration::registerCodecs();
            return true;
        }();
        (void)registered;
        DJ_RPLossy quality(95);
        REQUIRE(ds->chooseRepresentation(EXS_JPEGProcess1, &quality).good());
        xfer = EXS_JPEGProcess1;
    }
    REQUIRE(file.saveFile(path.c_str(), xfer).good());
}

std::vector<Uint16> ramp(int n, int max) {
    std::vector<Uint16> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[std::size_t(i)] = Uint16(std::lround(double(i) * max / (n - 1)));
    return v;
}

} // namespace

TEST_CASE("DICOM: 8-bit MONOCHROME2 is read as stored, MONOCHROME1 inverted", "[dicom]") {
    pggtest::TempDir dir("dicom");
    const auto px = ramp(64, 255);
    write_dicom((dir.path / "m2.dcm").string(), {}, px);
    write_dicom((dir.path / "m1.dcm").string(), {.photometric = "MONOCHROME1"}, px);
    const Tensor<std::uint8_t> m2 = io::read_dicom((dir.path / "m2.dcm").string()), m1 = io::read_dicom((dir.path / "m1.dcm").string());
    REQUIRE(m2.shape() == Shape{1, 1, 8, 8});
    for (int i = 0; i < 64; ++i) {
        CHECK(int(m2.data()[i]) == px[std::size_t(i)]);
        CHECK(int(m1.data()[i]) == 255 - px[std::size_t(i)]);
    }
}

TEST_CASE("DICOM: 12-bit with a VOI window, 16-bit with rescale and no window", "[dicom]") {
    pggtest::TempDir dir("dicom");
    const auto px12 = ramp(64, 4095);
    write_dicom((dir.path / "w.dcm").string(), {.bits_allocated = 16, .bits_stored = 12, .center = "1024", .width = "2048"}, px12);
    const Tensor<std::uint8_t> w = io::read_dicom((dir.path / "w.dcm").string());
    for (int i = 0; i < 64; ++i) { // DICOM's linear window: clipped below 0 and above 2047
        const double x = px12[std::size_t(i)], want = std::clamp(((x - 1023.5) / 2047 + 0.5) * 255, 0.0, 255.0);
        CHECK(std::abs(int(w.data()[i]) - want) <= 1);
    }
    // rescale 2x - 100 changes no order: min-max stretching maps the smallest stored value to 0 and the largest to 255
    auto px16 = ramp(64, 40000);
    px16[10] = 5000; // not a ramp any more, the extremes stay
    write_dicom((dir.path / "r.dcm").string(), {.bits_allocated = 16, .bits_stored = 16, .slope = "2", .intercept = "-100"}, px16);
    const Tensor<std::uint8_t> r = io::read_dicom((dir.path / "r.dcm").string());
    CHECK(int(r.data()[0]) == 0);
    CHECK(int(r.data()[63]) == 255);
    CHECK(std::abs(int(r.data()[10]) - 5000.0 / 40000 * 255) <= 1);
    CHECK(std::abs(int(r.data()[32]) - double(px16[32]) / 40000 * 255) <= 1);
}

TEST_CASE("DICOM: JPEG baseline decodes close to the original", "[dicom]") {
    pggtest::TempDir dir("dicom");
    const int n = 32;
    std::vector<Uint16> px(n * n);
    for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) // smooth, so JPEG keeps it; 0 to 255, as DCMTK's lossy encoder shifts by the minimum
            px[std::size_t(y * n + x)] = Uint16(std::lround(255.0 * (x + y) / (2 * n - 2)));
    write_dicom((dir.path / "j.dcm").string(), {.w = n, .h = n, .jpeg = true}, px);
    const Tensor<std::uint8_t> j = io::read_dicom((dir.path / "j.dcm").string());
    REQUIRE(j.shape() == Shape{1, 1, n, n});
    int worst = 0;
    for (int i = 0; i < n * n; ++i) worst = std::max(worst, std::abs(int(j.data()[i]) - int(px[std::size_t(i)])));
    CHECK(worst <= 6);
}

TEST_CASE("DICOM: files that are not images give errors naming the file", "[dicom]") {
    pggtest::TempDir dir("dicom");
    write_dicom((dir.path / "empty.dcm").string(), {.pixel_data = false}, {});
    CHECK_THROWS_WITH(io::read_dicom((dir.path / "empty.dcm").string()), Catch::Contains("empty.dcm: DICOM file without pixel data"));
    io::write_file_atomic((dir.path / "text.dcm").string(), "not a DICOM file at all");
    CHECK_THROWS_WITH(io::read_dicom((dir.path / "text.dcm").string()), Catch::Contains("text.dcm: not a readable DICOM file"));
    CHECK_THROWS_WITH(io::read_dicom((dir.path / "missing.dcm").string()), Catch::Contains("missing.dcm"));
}

// Not a test: writes DICOM files for tests/cxr_pggan/dataset_tool.sh into $PGG_DICOM_OUT (hidden tag).
TEST_CASE("write DICOM files for the dataset tool", "[.write-dicoms]") {
    const char* out = std::getenv("PGG_DICOM_OUT");
    REQUIRE(out);
    write_dicom(std::string(out) + "/a.dcm", {}, ramp(64, 255));
    write_dicom(std::string(out) + "/b.dcm", {.photometric = "MONOCHROME1"}, ramp(64, 200));
    write_dicom(std::string(out) + "/c.dcm", {.bits_allocated = 16, .bits_stored = 12, .center = "2048", .width = "4096"}, ramp(64, 4095));
    write_dicom(std::string(out) + "/d.dcm", {.jpeg = true}, ramp(64, 128));
    write_dicom(std::string(out) + "/nopixels.dcm", {.pixel_data = false}, {});
}

// Regression from fuzz/ (docs/reliability.md): DCMTK 3.6.7 loops forever on a TEM marker (FF 01) met
// before the JPEG frame header while it scans the first fragment for the bit depth.
TEST_CASE("DICOM: a JPEG fragment that would hang DCMTK is refused (fuzz)", "[dicom][fuzz]") {
    pggtest::TempDir dir("dicom_fuzz");
    write_dicom(dir / "j.dcm", {.jpeg = true}, ramp(64, 200));
    CHECK(io::read_dicom(dir / "j.dcm").numel() == 64);
    std::string bytes;
    {
        std::ifstream in(dir / "j.dcm", std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::size_t soi = bytes.find("\xFF\xD8\xFF");
    REQUIRE(soi != std::string::npos);
    bytes[soi + 3] = '\x01'; // the segment after SOI becomes TEM
    std::ofstream(dir / "tem.dcm", std::ios::binary) << bytes;
    CHECK_THROWS_WITH(io::read_dicom(dir / "tem.dcm"), Catch::Contains("tem.dcm: corrupt JPEG pixel data (a TEM marker"));
}

// Regression from fuzz/: 64517 x 43781 pixels claimed by a 412-byte file made DCMTK allocate 2.8 GB.
TEST_CASE("DICOM: more rows and columns than the file can hold are refused before DCMTK allocates (fuzz)", "[dicom][fuzz]") {
    pggtest::TempDir dir("dicom_fuzz");
    write_dicom(dir / "huge.dcm", {.w = 60000, .h = 60000}, ramp(64, 255)); // 64 bytes of pixel data
    CHECK_THROWS_WITH(io::read_dicom(dir / "huge.dcm"), Catch::Contains("huge.dcm: 60000 x 60000 pixels of 8 bits cannot be stored in its"));
    write_dicom(dir / "huge16.dcm", {.w = 4000, .h = 4000, .bits_allocated = 16, .bits_stored = 12}, ramp(64, 4095));
    CHECK_THROWS_WITH(io::read_dicom(dir / "huge16.dcm"), Catch::Contains("4000 x 4000 pixels of 16 bits"));
    // JPEG data of 1521 x 16 pixels of 64257 samples each: DCMTK went past 2 GB
    write_dicom(dir / "samples.dcm", {.w = 16, .h = 1521, .jpeg = true}, ramp(16 * 1521, 255));
    DcmFileFormat file;
    REQUIRE(file.loadFile((dir / "samples.dcm").c_str()).good());
    file.getDataset()->putAndInsertUint16(DCM_SamplesPerPixel, 64257);
    REQUIRE(file.saveFile((dir / "samples.dcm").c_str(), EXS_JPEGProcess1).good());
    CHECK_THROWS_WITH(io::read_dicom(dir / "samples.dcm"), Catch::Contains("1521 x 16 pixels x 64257 samples (JPEG) cannot be stored"));
    // Bits Allocated 65528 (the fuzzer's file: 22616 x 16 pixels, for which DCMTK asked for 3 GB)
    write_dicom(dir / "bits.dcm", {.w = 16, .h = 64, .jpeg = true}, ramp(16 * 64, 255));
    REQUIRE(file.loadFile((dir / "bits.dcm").c_str()).good());
    file.getDataset()->putAndInsertUint16(DCM_BitsAllocated, 65528);
    REQUIRE(file.saveFile((dir / "bits.dcm").c_str(), EXS_JPEGProcess1).good());
    CHECK_THROWS_WITH(io::read_dicom(dir / "bits.dcm"), Catch::Contains("bits.dcm: Bits Allocated 65528 is not supported (1, 8, 16 or 32)"));
}
