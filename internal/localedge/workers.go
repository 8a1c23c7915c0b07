package localedge

// registerWorkerRoutes registers the Workers endpoints.
func (s *Server) registerWorkerRoutes() {}
