// FastCGI — a thin Swift layer over libfcgi's fcgiapp.h; no C type leaves this module.
//
// Surface:
//   Listener                 .unixSocket(path:mode:group:) | .inheritedSystemd | .inheritedStdin
//   Listener.resolve(socketPath:environment:mode:group:)
//                            --socket, else PGBACKUP_FCGI_SOCKET, else LISTEN_FDS (LISTEN_PID = us),
//                            else fd 0 when it is a listening socket, else FastCGIError.noListener
//   Server(listener:configuration:handler:)
//     Configuration          workerCount, idleTimeout, handlesSignals, report
//     run()                  serves until SIGTERM/SIGINT, stop() or the idle timeout; joins the workers
//     stop()                 graceful: in-flight requests finish
//   Request                  params, param(_:), method, requestURI (raw), documentURI (decoded),
//                            queryString, contentType, contentLength, remoteUser
//     readBody(limit:)       throws FastCGIError.bodyTooLarge past the limit
//     respond(status:headers:body:)             complete response ("Status: 404 Not Found" line)
//     beginResponse(status:headers:), write(_:), flush(), finish()   streamed response;
//                            write/flush throw FastCGIError.clientDisconnected when the client is gone
//   HTTPStatus.reasonPhrase(_:)
//   FastCGIError             every failure, with a one-line description
//
// Signals: SIGPIPE is ignored; SIGTERM/SIGINT stop the server gracefully (Configuration.handlesSignals);
// the handlers libfcgi installs in FCGX_Init are undone. See Server for how stopping works.
