/* lvc library version. meson reads the three defines below. */
#ifndef LVC_VERSION_H
#define LVC_VERSION_H

#define LVC_VERSION_MAJOR 0
#define LVC_VERSION_MINOR 2
#define LVC_VERSION_PATCH 0

#define LVC_VERSION_STRING "0.2.0"

#endif /* LVC_VERSION_H */
