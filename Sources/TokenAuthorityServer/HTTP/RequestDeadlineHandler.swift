import NIOCore
import NIOHTTPTypes

/// Ends a request that, once its head has arrived, does not arrive whole within
/// `timeout` (`[security.http] request_timeout`): a client dripping its body cannot
/// hold a connection and a request task open. The body's reader gets an error, so
/// the handler answers 408 (docs/token-endpoint.md) and the connection closes after
/// it; `grace` later the connection is closed whatever the handler did.
/// Hummingbird's idle timeout covers the rest: a head that never completes, and a
/// keep-alive connection left idle. It is `grace` longer than `timeout`: set to the
/// same value, it closed a stalled request's connection at the very moment this
/// handler ended the request, mostly before the 408 was written.
///
/// At shutdown (`ShutdownNotice`) a request still arriving has `grace` left at most, not the
/// rest of `timeout`: the server waits for the requests in flight before it exits, and a
/// client that stalled its body would otherwise hold the exit back for up to `timeout`,
/// past a platform's stop grace period (README, "Shutdown").
///
/// A connection has one timer at most, and a request that arrives in time does not
/// touch it: the timer, when it fires, ends the request if the one then being read
/// is past its deadline, waits for that deadline if it is not, and lapses between
/// requests. (A timer scheduled and cancelled per request was a measurable part of
/// a keep-alive request's cost.)
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// How long after ending a request the connection may stay open for its answer.
    static let grace = TimeAmount.seconds(1)

    private let timeout: TimeAmount
    /// When the request being read must have arrived whole; `nil` between requests.
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            let deadline = NIODeadline.now() + timeout
            self.deadline = deadline
            if timer == nil { arm(at: deadline, context: context) }
        case .body:
            break
        case .end:
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    private func arm(at when: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: when) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            guard let deadline = handler.deadline else { return }
            if deadline <= .now() {
                context.fireErrorCaught(RequestBodyTimedOut())
                // The connection's last timer, cancelled with the others if it closes first.
                guard context.channel.isActive else { return }
                handler.timer = context.eventLoop.scheduleTask(in: Self.grace) {
                    loopBound.value.context.close(promise: nil)
                }
            } else {
                handler.arm(at: deadline, context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ShutdownNotice.Began, let deadline {
            let soon = NIODeadline.now() + Self.grace
            if soon < deadline {
                self.deadline = soon
                timer?.cancel()
                arm(at: soon, context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    private func stop() {
        timer?.cancel()
        timer = nil
        deadline = nil
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}

/// The error the body's reader gets when `request_timeout` ends its request.
struct RequestBodyTimedOut: Error {}

/// Tells the connection's handlers that the server is shutting down. NIO's quiescing event,
/// which says so, is held back by its HTTP pipeline handler until the request being read has
/// arrived whole (`HTTPServerPipelineHandler`), which is too late for `RequestDeadlineHandler`.
/// First in the pipeline, this handler passes it on and sends `Began` after it, which every
/// handler lets through.
final class ShutdownNotice: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    struct Began {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if event is ChannelShouldQuiesceEvent, context.channel.isActive {
            context.fireUserInboundEventTriggered(Began())
        }
    }
}

@available(*, unavailable)
extension ShutdownNotice: Sendable {}
