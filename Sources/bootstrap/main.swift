import LambdaRuntime

// The video service's Lambda functions share this one executable; `_HANDLER` picks which one runs.
await LambdaRuntime.run(makeHandler: Handlers.make(name:environment:))
