import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request, once its head has arrived, does not
/// arrive whole within `timeout` (`[security.http] request_timeout`): a client
/// dripping its body cannot hold a connection and a request task open.
/// Hummingbird's idle timeout, set to the same value, covers the rest: a head
/// that never completes, and a keep-alive connection left idle.
///
/// A connection has one timer at most, and a request that arrives in time does not
/// touch it: the timer, when it fires, closes the connection if the request then
/// being read is past its deadline, waits for that deadline if it is not, and
/// lapses between requests. (A timer scheduled and cancelled per request was a
/// measurable part of a keep-alive request's cost.)
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

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
                context.close(promise: nil)
            } else {
                handler.arm(at: deadline, context: context)
            }
        }
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
