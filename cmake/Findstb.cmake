# Finds Debian's stb (libstb-dev): headers in <prefix>/include/stb and the compiled libstb.
# Defines the imported target stb::stb.
find_path(STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb)
find_library(STB_LIBRARY NAMES stb)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(stb REQUIRED_VARS STB_INCLUDE_DIR STB_LIBRARY)
if(stb_FOUND AND NOT TARGET stb::stb)
  add_library(stb::stb UNKNOWN IMPORTED)
  set_target_properties(stb::stb PROPERTIES IMPORTED_LOCATION "${STB_LIBRARY}"
                                            INTERFACE_INCLUDE_DIRECTORIES "${STB_INCLUDE_DIR}")
endif()
mark_as_advanced(STB_INCLUDE_DIR STB_LIBRARY)
