/* lvc library version. meson reads the three defines below. */
#ifndef LVC_VERSION_H
#define LVC_VERSION_H

#define LVC_VERSION_MAJOR 0
#define LVC_VERSION_MINOR 1
#define LVC_VERSION_PATCH 0

#define LVC_VERSION_STRING "0.1.0"

#endif /* LVC_VERSION_H */
