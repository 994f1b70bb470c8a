// Does nothing: under `loopscope collect` what it costs is the recording's fixed cost.
