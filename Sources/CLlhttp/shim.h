/* llhttp, built by Scripts/bootstrap from Debian's node-llhttp sources into /usr/local. */
#include <llhttp.h>
