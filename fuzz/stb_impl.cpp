// stb_image and stb_image_write compiled into the fuzz harnesses from Debian's headers (the code of
// Debian's libstb), so that libFuzzer's coverage and ASan/UBSan reach into the decoders.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>
