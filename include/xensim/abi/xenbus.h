/*
 * xenbus.h - the states a split device's front and back ends publish in
 * their xenstore "state" nodes while they connect and disconnect.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/io/xenbus.h. Names and values are Xen's; declarations
 * and comments are our own.
 *
 * Usual handshake: back end InitWait; front end sets up its rings and
 * writes their references, then Initialised; back end Connected; front end
 * Connected. Either end goes Closing then Closed to disconnect. Ends must
 * tolerate a peer that skips states.
 */
#ifndef XENSIM_ABI_XENBUS_H
#define XENSIM_ABI_XENBUS_H

enum xenbus_state {
    XenbusStateUnknown = 0,
    XenbusStateInitialising = 1,
    XenbusStateInitWait = 2,    /* back end: waiting for the front end's details */
    XenbusStateInitialised = 3, /* front end: details written, waiting for back end */
    XenbusStateConnected = 4,
    XenbusStateClosing = 5, /* the device is going away; finish or fail I/O */
    XenbusStateClosed = 6,
    XenbusStateReconfiguring = 7, /* reconfiguration of a connected device */
    XenbusStateReconfigured = 8,
};
typedef enum xenbus_state XenbusState;

_Static_assert(sizeof(enum xenbus_state) == 4, "xenbus_state is an int-sized enum");

#endif /* XENSIM_ABI_XENBUS_H */
